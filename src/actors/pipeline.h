// The daemon: wires the six actors on one io_context, runs until the
// trigger mode or a signal ends the run, and returns the exit code.
//
// Exit codes (also in the README):
//   0   clean: drained after SIGTERM/SIGINT or a planned restart, or the
//       `once` / `available_now` run finished
//   1   fatal at start-up: source or sink unreadable, bad checkpoint
//   3   `once` / `available_now`: the last batch failed
//   4   drain timed out (the batch in flight did not finish in time)
//   130 a second SIGTERM/SIGINT: exit at once
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/batch_progress.h"
#include "base/clock.h"
#include "freshet/options.h"
#include "metrics/metrics.h"
#include "storage/object_store.h"

namespace freshet {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBatchFailed = 3;
inline constexpr int kExitDrainTimeout = 4;
inline constexpr int kExitSecondSignal = 130;

// Why Run() returned, for the restart bookkeeping (admin/run_state.h).
enum class PipelineEnd {
  kNotStarted,      // Run() not called, or it failed before the io_context ran
  kStopped,         // drained after a signal, or once / available_now finished
  kPlannedRestart,  // max_uptime reached: drained, exit 0, to be restarted
  kFailed,          // exit code other than 0
};

class Pipeline {
 public:
  // `metrics`: where the pipeline registers its metrics (the caller may
  // have registered store metrics there too); nullptr = a private registry.
  // REQUIRES: `metrics` outlives the Pipeline.
  Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
           const Clock* clock = SystemClock::Instance(), MetricsRegistry* metrics = nullptr);
  ~Pipeline();

  // Runs on the calling thread until the run ends. Call once. With
  // options.admin.listen set, the admin server is bound before the first
  // batch (a bad or busy address is fatal: exit 1) and serves on the same
  // io_context until Run returns.
  int Run();

  // The last reports, oldest first. Thread-safe.
  std::vector<BatchProgress> RecentBatches() const;
  // The /status document of the moment. Thread-safe.
  std::string StatusJson() const;
  // The admin server's port once Run() has bound it (0 before, or when
  // disabled). Thread-safe.
  uint16_t admin_port() const;
  PipelineEnd end() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet
