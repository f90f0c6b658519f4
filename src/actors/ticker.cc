#include "actors/ticker.h"

namespace freshet {

Ticker::Ticker(asio::io_context& io, Config config, const Clock* clock)
    : mailbox_(io, "ticker", 16), config_(config), clock_(clock),
      schedule_(config.mode, config.interval, config.pending_bytes_threshold, config.eligibility),
      deadline_timer_(mailbox_.strand(), clock), probe_timer_(mailbox_.strand(), clock) {}

void Ticker::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Ticker::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  Apply(schedule_.Start(clock_->Now()));
  ArmProbe();
  while (std::optional<TickerMsg> msg = co_await mailbox_.Receive()) {
    std::visit(Overloaded{
                   [&](const DeadlineDue&) { Apply(schedule_.OnDeadline(clock_->Now())); },
                   [&](const ProbeDue&) {
                     if (exited_) return;
                     if (schedule_.OnProbeTimer().probe) (void)out_.lister->Post(ListNow{clock_->Now(), true});
                     ArmProbe();
                   },
                   [&](const BatchFinished& m) {
                     Apply(schedule_.OnBatchFinished(clock_->Now(), m.built, m.failed));
                   },
                   [&](const PendingMeasured& m) { Apply(schedule_.OnProbeResult(m.bytes)); },
                   [&](const DrainRequest&) {
                     deadline_timer_.Cancel();
                     Apply(schedule_.Drain());
                   },
                   [&](const Ping& m) { (void)out_.watchdog->Post(Pong{"ticker", m.seq}); },
               },
               *msg);
  }
  deadline_timer_.Cancel();
  probe_timer_.Cancel();
}

void Ticker::ArmProbe() {
  if (config_.pending_bytes_threshold == 0 || exited_) return;
  probe_timer_.Arm(clock_->Now() + config_.probe_interval, [weak = weak_from_this()] {
    if (auto self = weak.lock()) (void)self->mailbox_.Post(ProbeDue{});
  });
}

void Ticker::Apply(const TickerActions& a) {
  out_.board->Publish(TriggerCounts{schedule_.fired(), schedule_.coalesced(), schedule_.early_fires(),
                                    schedule_.eligible_fires(), schedule_.next_eligible()});
  if (exited_) return;
  if (a.arm) {
    // Deadlines stay on the start + k*interval grid and the eligibility
    // grid (absolute times on the Clock): a late wake-up does not shift
    // later ones.
    deadline_timer_.Arm(*a.arm, [weak = weak_from_this()] {
      if (auto self = weak.lock()) (void)self->mailbox_.Post(DeadlineDue{});
    });
  }
  if (a.exit) {
    exited_ = true;
    deadline_timer_.Cancel();
    probe_timer_.Cancel();
    MustDeliver(out_.control->Post(RunEnded{a.failed}));
    return;
  }
  if (a.fire) (void)out_.lister->Post(ListNow{clock_->Now(), false});  // coalesces; closed at shutdown
}

}  // namespace freshet
