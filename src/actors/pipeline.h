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
#include "storage/object_store.h"

namespace freshet {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBatchFailed = 3;
inline constexpr int kExitDrainTimeout = 4;
inline constexpr int kExitSecondSignal = 130;

class Pipeline {
 public:
  Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
           const Clock* clock = SystemClock::Instance());
  ~Pipeline();

  // Runs on the calling thread until the run ends. Call once.
  int Run();

  // The last reports, oldest first. Thread-safe.
  std::vector<BatchProgress> RecentBatches() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet
