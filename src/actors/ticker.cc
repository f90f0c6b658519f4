#include "actors/ticker.h"

#include <algorithm>

namespace freshet {

Ticker::Ticker(asio::io_context& io, TriggerMode mode, Duration interval, const Clock* clock, Hooks hooks,
               uint64_t pending_bytes_threshold, Duration probe_interval)
    : mailbox_(io, "ticker", 64), timer_(mailbox_.strand()), probe_timer_(mailbox_.strand()),
      probe_interval_(probe_interval), schedule_(mode, interval, pending_bytes_threshold), clock_(clock),
      hooks_(std::move(hooks)) {}

void Ticker::Start() {
  mailbox_.Post([self = shared_from_this()] {
    self->Apply(self->schedule_.Start(self->clock_->Now()));
    self->ArmProbe();
  });
}

void Ticker::ArmProbe() {
  if (!hooks_.probe || exited_) return;
  probe_timer_.expires_after(probe_interval_);
  probe_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->exited_) return;
    TickerActions a = self->schedule_.OnProbeTimer();
    if (a.probe) {
      std::weak_ptr<Ticker> weak = self;
      self->hooks_.probe([weak](uint64_t bytes) {
        if (auto t = weak.lock()) {
          t->mailbox_.Post([t, bytes] { t->Apply(t->schedule_.OnProbeResult(bytes)); });
        }
      });
    }
    self->ArmProbe();
  });
}

void Ticker::BatchFinished(bool built, bool failed) {
  // Must not be refused: a lost "finished" would wedge the pipeline. The
  // mailbox limit is far above the one batch that can be in flight.
  mailbox_.Post([self = shared_from_this(), built, failed] {
    self->Apply(self->schedule_.OnBatchFinished(self->clock_->Now(), built, failed));
  });
}

void Ticker::Drain() {
  mailbox_.Post([self = shared_from_this()] {
    self->timer_.cancel();
    self->Apply(self->schedule_.Drain());
  });
}

void Ticker::Ping(std::function<void()> pong) {
  mailbox_.Post([pong = std::move(pong)] { pong(); });
}

void Ticker::Apply(const TickerActions& a) {
  coalesced_ = schedule_.coalesced();
  fired_ = schedule_.fired();
  early_fires_ = schedule_.early_fires();
  if (exited_) return;
  if (a.arm) Arm(*a.arm);
  if (a.exit) {
    exited_ = true;
    timer_.cancel();
    probe_timer_.cancel();
    hooks_.exit(a.failed);
    return;
  }
  if (a.fire) hooks_.fire(clock_->Now());
}

void Ticker::Arm(TimePoint deadline) {
  // Wait for the distance to the absolute deadline as the Clock sees it
  // (a steady timer, so wall-clock steps do not fire it early or late);
  // OnDeadline re-arms if the clock says it is not time yet. Deadlines stay
  // on the start + k*interval grid, so waits never accumulate drift.
  auto wait = std::max(Duration(0), std::chrono::duration_cast<Duration>(deadline - clock_->Now()));
  timer_.expires_after(wait);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: drained or re-armed
    self->Apply(self->schedule_.OnDeadline(self->clock_->Now()));
  });
}
}  // namespace freshet
