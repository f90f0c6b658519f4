// Watchdog actor: heartbeats every actor on a fixed period of the Clock,
// judges health (HealthTracker: unanswered heartbeats, stalled batch,
// last-commit age), publishes the verdict to the status board, and asks
// RunControl for the planned restart after max_uptime. It is itself a
// deadline: its own strand and ClockTimer, so a wedged actor cannot
// silence it.
//
// Receives BeatDue (its timer), Pong, BatchStarted, BatchFinished.
//
// Strand: all state lives in the receive loop on the mailbox's strand.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/clock_timer.h"
#include "actors/health_tracker.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "admin/status_board.h"
#include "base/clock.h"

namespace freshet {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  struct Target {
    std::string name;
    // Posts Ping{seq} into the actor's mailbox; it answers with a Pong.
    std::function<Delivery(uint64_t seq)> ping;
  };
  struct Outputs {
    Mailbox<ControlMsg>* control = nullptr;
    StatusBoard* board = nullptr;
  };
  Watchdog(asio::io_context& io, const WatchdogOptions& opts, const Clock* clock);

  // REQUIRES: before Start(); every output set.
  void Connect(std::vector<Target> targets, Outputs out);
  void Start();  // the first round one heartbeat interval from now
  Mailbox<WatchdogMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  void Beat();
  void Arm();

  Mailbox<WatchdogMsg> mailbox_;
  WatchdogOptions opts_;
  const Clock* clock_;
  std::vector<Target> targets_;
  Outputs out_;
  ClockTimer timer_;
  HealthTracker tracker_;
  uint64_t seq_ = 0;
  bool restart_requested_ = false;
  bool was_healthy_ = true;
};

}  // namespace freshet
