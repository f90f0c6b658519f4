#include "actors/watchdog.h"

#include <spdlog/spdlog.h>

namespace freshet {

Watchdog::Watchdog(asio::io_context& io, const WatchdogOptions& opts, const Clock* clock, std::vector<Target> targets,
                   Hooks hooks)
    : mailbox_(io, "watchdog", 1024), timer_(mailbox_.strand()), opts_(opts), clock_(clock),
      targets_(std::move(targets)), hooks_(std::move(hooks)), tracker_(opts, clock->Now()) {
  for (const auto& t : targets_) tracker_.Register(t.name);
}

void Watchdog::Start() {
  mailbox_.Post([self = shared_from_this()] { self->Arm(); });
}

void Watchdog::Stop() {
  mailbox_.Post([self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void Watchdog::BatchStarted(uint64_t batch_id) {
  mailbox_.Post([self = shared_from_this(), batch_id] { self->tracker_.OnBatchStarted(batch_id, self->clock_->Now()); });
}

void Watchdog::BatchFinished(bool committed) {
  mailbox_.Post([self = shared_from_this(), committed] { self->tracker_.OnBatchFinished(self->clock_->Now(), committed); });
}

HealthVerdict Watchdog::verdict() const {
  std::lock_guard lock(verdict_mu_);
  return verdict_;
}

void Watchdog::Arm() {
  if (stopped_) return;
  timer_.expires_after(opts_.heartbeat_interval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->Beat();
    self->Arm();
  });
}

void Watchdog::Beat() {
  TimePoint now = clock_->Now();
  ++seq_;
  for (const auto& t : targets_) {
    tracker_.OnPing(t.name, seq_, now);
    std::weak_ptr<Watchdog> weak = weak_from_this();
    t.ping([weak, name = t.name, seq = seq_] {
      if (auto self = weak.lock()) {
        self->mailbox_.Post([self, name, seq] { self->tracker_.OnPong(name, seq, self->clock_->Now()); });
      }
    });
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
    hooks_.planned_restart();
  }
  std::lock_guard lock(verdict_mu_);
  verdict_ = std::move(v);
}

}  // namespace freshet
