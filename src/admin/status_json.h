// The /status document (schema: src/admin/STATUS_JSON.md): the pipeline's
// current state plus its last batch progress reports, as JSON. Pure: the
// pipeline takes a StatusSnapshot under its lock and encodes it outside.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "admin/batch_progress.h"
#include "plan/batch_planner.h"

namespace freshet {

struct StatusSnapshot {
  std::string version;
  TimePoint now{};
  TimePoint started{};
  double uptime_seconds = 0;
  bool healthy = true;
  std::vector<std::string> health_problems;
  bool ready = false;
  bool draining = false;
  std::string source, sink;  // Describe(): never credentials
  std::string trigger_mode;
  double trigger_interval_seconds = 0;
  uint64_t coalesced = 0, fired = 0;
  uint64_t eligible_fires = 0;             // of `fired`: at a partition's eligibility
  std::optional<TimePoint> next_eligible;  // the next partition's end + grace

  std::optional<TimePoint> watermark;
  Duration partition_interval{};
  std::optional<TimePoint> last_commit;
  std::string base_generation, delta_generation;
  // The delta chain (SPEC §3): segments since the full, their bytes, the
  // merge the next commit carries, and merges committed by this run.
  uint64_t chain_segments = 0, chain_bytes = 0;
  std::string pending_merge;
  uint64_t merges_committed = 0;
  uint64_t next_batch_id = 1;
  struct InFlight {
    uint64_t batch_id = 0;
    TimePoint started{};
    double running_seconds = 0;
  };
  std::optional<InFlight> in_flight;
  uint64_t backlog_partitions = 0;
  std::vector<PendingInput> not_eligible, not_eligible_snapshots;
  std::string idle_reason;
};

// Freshness lag now: now - (watermark + partition interval); nullopt
// without a watermark.
std::optional<double> FreshnessLagSeconds(const StatusSnapshot& s);

std::string EncodeStatusJson(const StatusSnapshot& snapshot, const std::vector<BatchProgress>& batches);

}  // namespace freshet
