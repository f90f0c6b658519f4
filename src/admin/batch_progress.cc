#include "admin/batch_progress.h"

#include <fmt/format.h>

namespace freshet {

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kList: return "list";
    case Stage::kPlan: return "plan";
    case Stage::kFetch: return "fetch";
    case Stage::kParse: return "parse";
    case Stage::kBuild: return "build";
    case Stage::kWrite: return "write";
    case Stage::kCommit: return "commit";
    case Stage::kCount: break;
  }
  return "?";
}

std::string_view OutcomeName(BatchOutcome o) {
  switch (o) {
    case BatchOutcome::kRunning: return "running";
    case BatchOutcome::kCommitted: return "committed";
    case BatchOutcome::kIdle: return "idle";
    case BatchOutcome::kFailed: return "failed";
  }
  return "?";
}

double BatchProgress::total_seconds() const {
  double t = 0;
  for (double s : stage_seconds) t += s;
  return t;
}

std::string FormatProgressLine(const BatchProgress& p) {
  std::string line = fmt::format("batch {} {}", p.batch_id, OutcomeName(p.outcome));
  if (!p.kind.empty()) {
    line += fmt::format(" {} target={} window=[{}, {}) skipped={} objects={} bytes={} records={} bad={} docs={} "
                        "tombstones={} terms={} out_bytes={}",
                        p.kind, p.target, p.window_start, p.window_end, p.skipped, p.objects, p.bytes, p.records,
                        p.bad_records, p.docs, p.tombstones, p.terms, p.output_bytes);
  }
  line += " stages_ms=";
  for (size_t i = 0; i < p.stage_seconds.size(); ++i) {
    line += fmt::format("{}{}:{:.0f}", i ? "," : "", StageName(static_cast<Stage>(i)), p.stage_seconds[i] * 1000);
  }
  line += fmt::format(" total_ms={:.0f}", p.total_seconds() * 1000);
  if (p.pending) line += fmt::format(" pending={}", p.pending);
  if (p.late_objects) line += fmt::format(" late_objects={}", p.late_objects);
  if (p.changed_objects) line += fmt::format(" changed_objects={}", p.changed_objects);
  if (!p.watermark.empty()) line += " watermark=" + p.watermark;
  if (p.freshness_lag_seconds >= 0) line += fmt::format(" freshness_lag_s={:.1f}", p.freshness_lag_seconds);
  if (p.since_trigger_seconds >= 0) line += fmt::format(" since_trigger_ms={:.0f}", p.since_trigger_seconds * 1000);
  if (!p.message.empty()) line += " msg=\"" + p.message + "\"";
  return line;
}

}  // namespace freshet
