// RunControl: how a run ends, as one small actor. It turns the signals,
// the Watchdog's planned restart, the Ticker's end of the run and the
// drain bound into an exit code:
//   SIGTERM/SIGINT       drain (the Ticker stops firing; the batch in
//                        flight finishes), then exit 0; a second signal
//                        exits at once with 130
//   RestartDue           drain, then exit 0 as a planned restart
//   RunEnded             exit 0, or 3 when the last batch of a once /
//                        available_now run failed
//   DrainExpired         the drain took longer than watchdog.drain_timeout:
//                        exit 4 (the batch is retried after the restart)
//   WriterFenced         another writer replaced CURRENT: exit 1 at once
//                        (nothing of this run can be committed any more)
// The drain bound is a ClockTimer, so tests move it with a ManualClock.
//
// Strand: all state lives in the receive loop on the mailbox's strand.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "actors/clock_timer.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "actors/run_end.h"
#include "admin/status_board.h"

namespace freshet {

class RunControl : public std::enable_shared_from_this<RunControl> {
 public:
  struct Outputs {
    Mailbox<TickerMsg>* ticker = nullptr;
    StatusBoard* board = nullptr;
    std::function<void(const std::string& why)> stopping;  // a drain began (systemd STOPPING=1)
    std::function<void()> exit;                            // the run is over: stop everything
  };
  RunControl(asio::io_context& io, Duration drain_timeout, const Clock* clock);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();
  Mailbox<ControlMsg>& mailbox() { return mailbox_; }
  // How the run ended; kExitOk / kNotStarted before it did. Thread-safe.
  int exit_code() const { return exit_code_.load(); }
  PipelineEnd end() const { return end_.load(); }

 private:
  Awaitable<void> Run();
  void Drain(const std::string& why);
  void Exit(int code);

  Mailbox<ControlMsg> mailbox_;
  Duration drain_timeout_;
  const Clock* clock_;
  Outputs out_;
  ClockTimer drain_timer_;
  bool draining_ = false, planned_restart_ = false, exited_ = false;
  int signals_ = 0;
  std::atomic<int> exit_code_{kExitOk};
  std::atomic<PipelineEnd> end_{PipelineEnd::kNotStarted};
};

}  // namespace freshet
