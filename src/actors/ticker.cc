#include "actors/ticker.h"

namespace freshet {

Ticker::Ticker(asio::io_context& io, TriggerMode mode, Duration interval, const Clock* clock, Hooks hooks)
    : mailbox_(io, "ticker", 64), timer_(mailbox_.strand()), schedule_(mode, interval), clock_(clock),
      hooks_(std::move(hooks)) {}

void Ticker::Start() {
  mailbox_.Post([self = shared_from_this()] { self->Apply(self->schedule_.Start(self->clock_->Now())); });
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
  if (exited_) return;
  if (a.arm) Arm(*a.arm);
  if (a.exit) {
    exited_ = true;
    timer_.cancel();
    hooks_.exit(a.failed);
    return;
  }
  if (a.fire) hooks_.fire(clock_->Now());
}

void Ticker::Arm(TimePoint deadline) {
  timer_.expires_at(std::chrono::system_clock::time_point(deadline.time_since_epoch()));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: drained or re-armed
    self->Apply(self->schedule_.OnDeadline(self->clock_->Now()));
  });
}

}  // namespace freshet
