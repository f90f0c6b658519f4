// Restart bookkeeping across runs, for freshet_restarts_total{kind}: a
// small JSON file (`watchdog.state_file`) on the VM's local disk that says
// how the last run ended. A run that starts and finds "running" knows the
// previous process died without a clean exit (crash, kill -9, OOM, a
// second signal, the host went down): an unplanned restart. "planned"
// (max_uptime reached, drained, exit 0) counts as planned; "stopped"
// (SIGTERM/SIGINT drain, `once`/`available_now` finished) counts as neither.
//
// Contracts: pure file logic, no Asio. Saves are atomic (temp file in the
// same directory, fsync, rename, fsync of the directory), so a crash
// leaves either the old or the new state. A missing file is a first start.
// A corrupt file is an error naming the path and the problem; the caller
// logs it and starts counting afresh (never blocks start-up).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

enum class RunEnd { kRunning, kStopped, kPlanned };
std::string_view RunEndName(RunEnd end);  // "running", "stopped", "planned"

struct RunState {
  uint64_t starts = 0;              // runs started, this one included once BeginRun() was applied
  uint64_t planned_restarts = 0;    // starts after a planned exit
  uint64_t unplanned_restarts = 0;  // starts after a run that never recorded its end
  RunEnd last_end = RunEnd::kStopped;
  TimePoint last_start{};           // of the run that wrote the file
  friend bool operator==(const RunState&, const RunState&) = default;
};

// Deterministic JSON, one object; and its strict inverse (kDataLoss with
// the key for anything malformed).
std::string EncodeRunState(const RunState& state);
Result<RunState> DecodeRunState(std::string_view json);

// The state for a run starting at `now`, after `previous` (nullopt: no
// file). Counts the restart kind from previous->last_end; last_end becomes
// kRunning.
RunState BeginRun(const std::optional<RunState>& previous, TimePoint now);

// Reads the file: nullopt when it does not exist.
Result<std::optional<RunState>> LoadRunState(const std::string& path);
// Atomic replace (see above). Errors name the path.
Status SaveRunState(const std::string& path, const RunState& state);

}  // namespace freshet
