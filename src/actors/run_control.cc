#include "actors/run_control.h"

#include <csignal>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace freshet {

RunControl::RunControl(asio::io_context& io, Duration drain_timeout, const Clock* clock)
    : mailbox_(io, "control", 16), drain_timeout_(drain_timeout), clock_(clock),
      drain_timer_(mailbox_.strand(), clock) {}

void RunControl::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> RunControl::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  while (std::optional<ControlMsg> msg = co_await mailbox_.Receive()) {
    if (exited_) continue;
    std::visit(Overloaded{
                   [&](const SignalReceived& m) {
                     if (++signals_ >= 2) {
                       spdlog::warn("second signal ({}): exiting now", m.signal);
                       spdlog::default_logger()->flush();
                       std::_Exit(kExitSecondSignal);
                     }
                     Drain(m.signal == SIGTERM ? "SIGTERM" : m.signal == SIGINT ? "SIGINT" : "stop requested");
                   },
                   [&](const RestartDue&) {
                     planned_restart_ = true;
                     Drain("planned restart after max_uptime");
                   },
                   [&](const RunEnded& m) { Exit(m.failed ? kExitBatchFailed : kExitOk); },
                   [&](const WriterFenced& m) {
                     spdlog::error("{}", m.reason);
                     out_.board->Publish(DrainStarted{"fenced: another writer owns the sink"});
                     out_.stopping("fenced: another writer owns the sink");
                     Exit(kExitFatal);
                   },
                   [&](const DrainExpired&) {
                     spdlog::error(
                         "drain timed out after {}; exiting with the batch unfinished (it is retried on restart)",
                         FormatDuration(drain_timeout_));
                     Exit(kExitDrainTimeout);
                   },
               },
               *msg);
  }
  drain_timer_.Cancel();
}

void RunControl::Drain(const std::string& why) {
  if (draining_) return;
  draining_ = true;
  spdlog::info("draining ({}): finishing the batch in flight, then exiting", why);
  out_.board->Publish(DrainStarted{why});
  out_.stopping("draining (" + why + ")");
  MustDeliver(out_.ticker->Post(DrainRequest{}));
  drain_timer_.Arm(clock_->Now() + drain_timeout_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) MustDeliver(self->mailbox_.Post(DrainExpired{}));
  });
}

void RunControl::Exit(int code) {
  exited_ = true;
  drain_timer_.Cancel();
  exit_code_ = code;
  end_ = code != kExitOk ? PipelineEnd::kFailed
         : planned_restart_ ? PipelineEnd::kPlannedRestart
                            : PipelineEnd::kStopped;
  out_.exit();
}

}  // namespace freshet
