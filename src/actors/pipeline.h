// The daemon's wiring: the six actors (Ticker, Lister, Planner, Builder,
// Committer, Watchdog) plus RunControl on one event loop (base/io_loop.h),
// connected along the data flow (actors/messages.h), the compute pool, the
// status board and the admin endpoint. Pipeline only builds and connects;
// what each part decides lives in the part.
//
// Exit codes (also in the README; actors/run_end.h):
//   0   clean: drained after SIGTERM/SIGINT/Stop() or a planned restart, or
//       the `once` / `available_now` run finished
//   1   fatal at start-up: source or sink unreadable, bad CURRENT, admin
//       address unusable
//   2   bad configuration (layout, planner settings, crash point)
//   3   `once` / `available_now`: the last batch failed
//   4   drain timed out (the batch in flight did not finish in time)
//   130 a second SIGTERM/SIGINT: exit at once
#pragma once

#include <atomic>
#include <memory>

#include "actors/run_end.h"
#include "admin/status_board.h"
#include "base/clock.h"
#include "base/io_loop.h"
#include "config/options.h"
#include "metrics/metrics.h"
#include "storage/object_store.h"

namespace freshet {

class Pipeline {
 public:
  // `metrics`: where the pipeline registers its metrics (the caller may
  // have registered store metrics there too); nullptr = a private registry.
  // `loop`: the event loop to run on, shared with the stores' HTTP
  // connections (S3); nullptr = a loop of its own with
  // pipeline.io_threads threads. The Pipeline stops the loop when Run()
  // returns (or when it is destroyed), so the loop serves this Pipeline and
  // its stores only.
  // REQUIRES: `clock`, `metrics` and `loop` outlive the Pipeline.
  Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
           const Clock* clock = SystemClock::Instance(), MetricsRegistry* metrics = nullptr,
           IoLoop* loop = nullptr);
  ~Pipeline();

  // Recovers the sink's state, starts the actors and the admin endpoint on
  // the loop, and waits on the calling thread until the run ends; then
  // stops the loop and returns the exit code. Call once.
  int Run();
  // Drains as SIGTERM does: the batch in flight finishes, then Run()
  // returns. Thread-safe; before Run() starts it ends the run at once.
  void Stop();

  // What the operations surface shows (/status, readiness, the reports).
  const StatusBoard& board() const;
  // The admin server's port once Run() bound it (0 before, or disabled).
  // Thread-safe.
  uint16_t admin_port() const;
  PipelineEnd end() const;  // valid after Run()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet
