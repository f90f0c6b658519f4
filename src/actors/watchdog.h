// Watchdog actor: heartbeats every actor on a fixed period, judges health
// (HealthTracker: unanswered heartbeats, stalled batch, last-commit age) and
// triggers the planned restart after max_uptime. It is itself a deadline:
// it runs on its own strand and timer, so a wedged actor cannot silence it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/health_tracker.h"
#include "actors/mailbox.h"
#include "base/clock.h"

namespace freshet {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  struct Target {
    std::string name;
    // Sends a heartbeat; the actor calls `pong` from its own strand.
    std::function<void(std::function<void()> pong)> ping;
  };
  struct Hooks {
    std::function<void()> planned_restart;  // called once when max_uptime is reached
  };
  Watchdog(asio::io_context& io, const WatchdogOptions& opts, const Clock* clock, std::vector<Target> targets,
           Hooks hooks);

  void Start();
  void Stop();
  void BatchStarted(uint64_t batch_id);
  void BatchFinished(bool committed);

  // The latest verdict. Thread-safe.
  HealthVerdict verdict() const;

 private:
  void Beat();
  void Arm();

  Mailbox mailbox_;
  asio::steady_timer timer_;
  WatchdogOptions opts_;
  const Clock* clock_;
  std::vector<Target> targets_;
  Hooks hooks_;
  HealthTracker tracker_;
  uint64_t seq_ = 0;
  bool stopped_ = false;
  bool restart_requested_ = false;
  bool was_healthy_ = true;
  mutable std::mutex verdict_mu_;
  HealthVerdict verdict_;  // guarded by verdict_mu_
};

}  // namespace freshet
