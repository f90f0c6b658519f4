// How a run ends: freshet's exit codes (also in the README) and the kind of
// end the restart bookkeeping records. Asio-free, so the CLI's commands use
// them without the actors' headers.
#pragma once

namespace freshet {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;         // fatal at start-up: store unreadable, bad CURRENT, admin address
inline constexpr int kExitUsage = 2;         // bad configuration or arguments
inline constexpr int kExitBatchFailed = 3;   // once / available_now: the last batch failed
inline constexpr int kExitDrainTimeout = 4;  // the batch in flight did not finish within drain_timeout
inline constexpr int kExitSecondSignal = 130;

// Why the run ended, for the restart bookkeeping (admin/run_state.h).
enum class PipelineEnd {
  kNotStarted,      // not started, or it failed before the io_context ran
  kStopped,         // drained after a signal, or once / available_now finished
  kPlannedRestart,  // max_uptime reached: drained, exit 0, to be restarted
  kFailed,          // exit code other than 0
};

}  // namespace freshet
