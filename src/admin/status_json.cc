#include "admin/status_json.h"

#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace freshet {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void Key(JsonWriter& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

// Non-finite doubles are not JSON: null instead.
void Num(JsonWriter& w, double v) {
  if (std::isfinite(v)) w.Double(v);
  else w.Null();
}

void Time(JsonWriter& w, const std::optional<TimePoint>& t) {
  if (t) Str(w, FormatRfc3339(*t));
  else w.Null();
}

// "" as null: BatchProgress keeps absent times and generations as "".
void StrOrNull(JsonWriter& w, const std::string& s) {
  if (s.empty()) w.Null();
  else Str(w, s);
}

void Pending(JsonWriter& w, const std::vector<PendingInput>& inputs, const char* time_key) {
  w.StartArray();
  for (const PendingInput& in : inputs) {
    w.StartObject();
    Key(w, time_key);
    Str(w, FormatRfc3339(in.time));
    Key(w, "eligible_at");
    Str(w, FormatRfc3339(in.eligible_at));
    Key(w, "objects");
    w.Uint64(in.objects);
    Key(w, "bytes");
    w.Uint64(in.bytes);
    Key(w, "reason");
    Str(w, in.reason);
    w.EndObject();
  }
  w.EndArray();
}

void Batch(JsonWriter& w, const BatchProgress& p, const BatchProgress* previous) {
  w.StartObject();
  Key(w, "batch_id");
  w.Uint64(p.batch_id);
  Key(w, "trigger_time");
  Str(w, FormatRfc3339(p.trigger_time));
  Key(w, "outcome");
  Str(w, OutcomeName(p.outcome));
  Key(w, "kind");
  StrOrNull(w, p.kind);
  Key(w, "target");
  StrOrNull(w, p.target);
  Key(w, "window");
  w.StartObject();
  Key(w, "start");
  StrOrNull(w, p.window_start);
  Key(w, "end");
  StrOrNull(w, p.window_end);
  w.EndObject();
  Key(w, "durations_seconds");
  w.StartObject();
  for (size_t i = 0; i < p.stage_seconds.size(); ++i) {
    Key(w, StageName(static_cast<Stage>(i)));
    Num(w, p.stage_seconds[i]);
  }
  Key(w, "total");
  const double total = p.total_seconds();
  Num(w, total);
  w.EndObject();
  Key(w, "input");
  w.StartObject();
  Key(w, "objects");
  w.Uint64(p.objects);
  Key(w, "bytes");
  w.Uint64(p.bytes);
  Key(w, "records");
  w.Uint64(p.records);
  Key(w, "bad_records");
  w.Uint64(p.bad_records);
  Key(w, "late_objects");
  w.Uint64(p.late_objects);
  Key(w, "changed_objects");
  w.Uint64(p.changed_objects);
  // Spark's inputRowsPerSecond: records over the time since the previous
  // batch's trigger.
  Key(w, "records_per_second");
  double since = previous ? std::chrono::duration<double>(p.trigger_time - previous->trigger_time).count() : 0;
  if (since > 0) Num(w, static_cast<double>(p.records) / since);
  else w.Null();
  w.EndObject();
  Key(w, "processed_records_per_second");
  if (total > 0) Num(w, static_cast<double>(p.records) / total);
  else w.Null();
  Key(w, "output");
  w.StartObject();
  Key(w, "docs");
  w.Uint64(p.docs);
  Key(w, "tombstones");
  w.Uint64(p.tombstones);
  Key(w, "terms");
  w.Uint64(p.terms);
  Key(w, "bytes");
  w.Uint64(p.output_bytes);
  w.EndObject();
  Key(w, "skipped_partitions");
  w.Uint64(p.skipped);
  Key(w, "not_eligible_partitions");
  w.Uint64(p.pending);
  Key(w, "freshness_lag_seconds");
  if (p.freshness_lag_seconds >= 0) Num(w, p.freshness_lag_seconds);
  else w.Null();
  Key(w, "since_trigger_seconds");
  if (p.since_trigger_seconds >= 0) Num(w, p.since_trigger_seconds);
  else w.Null();
  Key(w, "watermark");
  StrOrNull(w, p.watermark);
  Key(w, "delta_generation");
  StrOrNull(w, p.delta_generation);
  Key(w, "full_generation");
  StrOrNull(w, p.full_generation);
  Key(w, "message");
  Str(w, p.message);
  w.EndObject();
}

}  // namespace

std::optional<double> FreshnessLagSeconds(const StatusSnapshot& s) {
  if (!s.watermark) return std::nullopt;
  return std::chrono::duration<double>(s.now - (*s.watermark + s.partition_interval)).count();
}

std::string EncodeStatusJson(const StatusSnapshot& s, const std::vector<BatchProgress>& batches) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, "service");
  Str(w, "freshet");
  Key(w, "version");
  Str(w, s.version);
  Key(w, "now");
  Str(w, FormatRfc3339(s.now));
  Key(w, "started");
  Str(w, FormatRfc3339(s.started));
  Key(w, "uptime_seconds");
  Num(w, s.uptime_seconds);
  Key(w, "healthy");
  w.Bool(s.healthy);
  Key(w, "health_problems");
  w.StartArray();
  for (const std::string& p : s.health_problems) Str(w, p);
  w.EndArray();
  Key(w, "ready");
  w.Bool(s.ready);
  Key(w, "draining");
  w.Bool(s.draining);
  Key(w, "source");
  Str(w, s.source);
  Key(w, "sink");
  Str(w, s.sink);

  Key(w, "trigger");
  w.StartObject();
  Key(w, "mode");
  Str(w, s.trigger_mode);
  Key(w, "interval_seconds");
  Num(w, s.trigger_interval_seconds);
  Key(w, "coalesced");
  w.Uint64(s.coalesced);
  Key(w, "fired");
  w.Uint64(s.fired);
  Key(w, "eligible_fires");
  w.Uint64(s.eligible_fires);
  Key(w, "next_eligible");
  Time(w, s.next_eligible);
  w.EndObject();

  Key(w, "state");
  w.StartObject();
  Key(w, "watermark");
  Time(w, s.watermark);
  Key(w, "freshness_lag_seconds");
  if (auto lag = FreshnessLagSeconds(s)) Num(w, *lag);
  else w.Null();
  Key(w, "partition_interval_seconds");
  Num(w, std::chrono::duration<double>(s.partition_interval).count());
  Key(w, "last_commit");
  Time(w, s.last_commit);
  Key(w, "base_generation");
  StrOrNull(w, s.base_generation);
  Key(w, "delta_generation");
  StrOrNull(w, s.delta_generation);
  Key(w, "chain");
  w.StartObject();
  Key(w, "segments");
  w.Uint64(s.chain_segments);
  Key(w, "bytes");
  w.Uint64(s.chain_bytes);
  Key(w, "pending_merge");
  StrOrNull(w, s.pending_merge);
  Key(w, "merges_committed");
  w.Uint64(s.merges_committed);
  w.EndObject();
  Key(w, "next_batch_id");
  w.Uint64(s.next_batch_id);
  Key(w, "batch_in_flight");
  if (s.in_flight) {
    w.StartObject();
    Key(w, "batch_id");
    w.Uint64(s.in_flight->batch_id);
    Key(w, "started");
    Str(w, FormatRfc3339(s.in_flight->started));
    Key(w, "running_seconds");
    Num(w, s.in_flight->running_seconds);
    w.EndObject();
  } else {
    w.Null();
  }
  Key(w, "backlog_partitions");
  w.Uint64(s.backlog_partitions);
  Key(w, "not_eligible");
  Pending(w, s.not_eligible, "partition");
  Key(w, "not_eligible_snapshots");
  Pending(w, s.not_eligible_snapshots, "snapshot");
  Key(w, "idle_reason");
  Str(w, s.idle_reason);
  w.EndObject();

  Key(w, "recent_batches");
  w.StartArray();
  for (size_t i = 0; i < batches.size(); ++i) Batch(w, batches[i], i ? &batches[i - 1] : nullptr);
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace freshet
