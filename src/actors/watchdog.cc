#include "actors/watchdog.h"

#include <spdlog/spdlog.h>

namespace freshet {

Watchdog::Watchdog(asio::io_context& io, const WatchdogOptions& opts, const Clock* clock)
    // Batch events are must-deliver; the limit bounds pongs from actors
    // that answer late.
    : mailbox_(io, "watchdog", 256), opts_(opts), clock_(clock), timer_(mailbox_.strand(), clock),
      tracker_(opts, clock->Now()) {}

void Watchdog::Connect(std::vector<Target> targets, Outputs out) {
  targets_ = std::move(targets);
  out_ = std::move(out);
  for (const auto& t : targets_) tracker_.Register(t.name);
}

void Watchdog::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Watchdog::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  Arm();
  while (std::optional<WatchdogMsg> msg = co_await mailbox_.Receive()) {
    std::visit(Overloaded{
                   [&](const BeatDue&) {
                     Beat();
                     Arm();
                   },
                   [&](const Pong& m) { tracker_.OnPong(m.actor, m.seq, clock_->Now()); },
                   [&](const BatchStarted& m) { tracker_.OnBatchStarted(m.batch_id, clock_->Now()); },
                   [&](const BatchFinished& m) { tracker_.OnBatchFinished(clock_->Now(), m.built); },
                   [&](const InputWaiting& m) { tracker_.OnInputWaiting(m.since); },
               },
               *msg);
  }
  timer_.Cancel();
}

void Watchdog::Arm() {
  timer_.Arm(clock_->Now() + opts_.heartbeat_interval, [weak = weak_from_this()] {
    if (auto self = weak.lock()) (void)self->mailbox_.Post(BeatDue{});
  });
}

void Watchdog::Beat() {
  TimePoint now = clock_->Now();
  ++seq_;
  for (const auto& t : targets_) {
    tracker_.OnPing(t.name, seq_, now);
    (void)t.ping(seq_);  // refused: unanswered, which is what the tracker judges
  }
  HealthVerdict v = tracker_.Evaluate(now);
  if (!v.healthy && was_healthy_) {
    for (const auto& p : v.problems) spdlog::warn("watchdog: unhealthy: {}", p);
  } else if (v.healthy && !was_healthy_) {
    spdlog::info("watchdog: healthy again");
  }
  was_healthy_ = v.healthy;
  if (v.restart_due && !restart_requested_) {
    restart_requested_ = true;
    spdlog::info("watchdog: max_uptime {} reached: planned restart (drain, exit 0)", FormatDuration(opts_.max_uptime));
    MustDeliver(out_.control->Post(RestartDue{}));
  }
  out_.board->Publish(HealthChanged{std::move(v)});
}

}  // namespace freshet
