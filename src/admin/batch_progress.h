// One batch's progress report: filled in stage by stage as the batch moves
// through the actors, logged as one line when it ends, kept for /status.
// In the spirit of Spark's StreamingQueryProgress.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "freshet/time.h"

namespace freshet {

enum class Stage : int { kList = 0, kPlan, kFetch, kParse, kBuild, kWrite, kCommit, kCount };
std::string_view StageName(Stage s);

enum class BatchOutcome { kRunning, kCommitted, kIdle, kFailed };
std::string_view OutcomeName(BatchOutcome o);

struct BatchProgress {
  uint64_t batch_id = 0;
  TimePoint trigger_time{};
  BatchOutcome outcome = BatchOutcome::kRunning;
  std::string kind;          // "delta" or "full+delta"; "" when idle
  std::string target;        // partition time, RFC 3339
  std::string window_start;  // RFC 3339
  std::string window_end;
  std::string delta_generation;
  std::string full_generation;
  uint64_t skipped = 0;      // partitions jumped over (freshness-first debt)
  uint64_t pending = 0;      // visible, not yet eligible
  uint64_t objects = 0;      // input objects read
  uint64_t bytes = 0;        // input bytes read
  uint64_t records = 0;
  uint64_t bad_records = 0;
  uint64_t late_objects = 0;     // objects new in partitions already committed, ingested now
  uint64_t changed_objects = 0;  // window objects rewritten or deleted in the source since ingested
  uint64_t docs = 0;
  uint64_t tombstones = 0;
  uint64_t terms = 0;
  uint64_t output_bytes = 0;
  std::array<double, static_cast<size_t>(Stage::kCount)> stage_seconds{};
  int stages_reached = 0;     // stages that ran, in order: 1 = list only, ..., kCount = all
  int64_t full_docs = -1;     // the new full's figures when the batch built one, else -1
  int64_t full_terms = -1;
  double freshness_lag_seconds = -1;  // now - newest committed partition end; < 0 unknown
  // Trigger -> committed, by the daemon's clock: the stages and what lies
  // between them (queueing, opening the base, diffing the window). < 0
  // unless committed.
  double since_trigger_seconds = -1;
  std::string watermark;     // after the batch
  std::string message;       // idle reason, failure, or warnings

  double& seconds(Stage s) { return stage_seconds[static_cast<size_t>(s)]; }
  double total_seconds() const;
};

// "batch 12 committed delta target=... window=[...) objects=... ..." — one line.
std::string FormatProgressLine(const BatchProgress& p);

}  // namespace freshet
