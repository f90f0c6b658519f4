#include "config/validate_options.h"

#include <algorithm>

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "config/option_fields.h"
#include "freshet/time.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;

// Collects "key: problem" lines; the first problem is not the only one worth
// fixing, so check-config shows them all at once.
class Problems {
 public:
  void Add(std::string key, std::string problem) { list_.push_back(std::move(key) + ": " + std::move(problem)); }
  Status ToStatus() const {
    if (list_.empty()) return Status::Ok();
    std::string msg;
    for (const auto& p : list_) {
      if (!msg.empty()) msg += "; ";
      msg += p;
    }
    return Status::InvalidArgument(msg);
  }

 private:
  std::vector<std::string> list_;
};

std::string Quoted(std::string_view s) { return "\"" + std::string(s.substr(0, 128)) + "\""; }

void CheckUri(Problems* p, const std::string& key, const std::string& uri) {
  if (uri.empty()) return p->Add(key, "must not be empty");
  size_t sep = uri.find("://");
  if (sep == std::string::npos) return;  // a bare path: local store
  std::string scheme = uri.substr(0, sep);
  std::string rest = uri.substr(sep + 3);
  if (scheme == "local") {
    if (rest.empty()) p->Add(key, Quoted(uri) + " has no path after local://");
  } else if (scheme == "s3") {
    std::string bucket = rest.substr(0, rest.find('/'));
    if (bucket.empty()) p->Add(key, Quoted(uri) + " has no bucket; expected s3://bucket/prefix");
  } else if (scheme == "mem") {
    // In-memory store for tests; any name, including none.
  } else {
    p->Add(key, "unknown scheme " + Quoted(scheme) + " in " + Quoted(uri) +
                    "; expected local://path, s3://bucket/prefix, mem://name or a plain path");
  }
}

void CheckPrefix(Problems* p, const std::string& key, const std::string& prefix) {
  if (!prefix.empty() && prefix.front() == '/') p->Add(key, Quoted(prefix) + " must be relative (no leading '/')");
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t end = prefix.find('/', start);
    if (end == std::string::npos) end = prefix.size();
    if (prefix.compare(start, end - start, "..") == 0) {
      p->Add(key, Quoted(prefix) + " must not contain '..'");
      return;
    }
    start = end + 1;
  }
}

void CheckPositive(Problems* p, const std::string& key, Duration d) {
  if (d <= Duration::zero()) p->Add(key, "must be positive, got " + FormatDuration(d));
}
void CheckNonNegative(Problems* p, const std::string& key, Duration d) {
  if (d < Duration::zero()) p->Add(key, "must not be negative, got " + FormatDuration(d));
}

// The s3 section. Secrets are never echoed: problems with them name the key only.
void CheckS3(Problems* p, const S3Options& s3) {
  if (s3.addressing != "auto" && s3.addressing != "path" && s3.addressing != "virtual")
    p->Add("s3.addressing", config_internal::NotOneOf(s3.addressing, {"auto", "path", "virtual"}).message());
  if (!s3.endpoint.empty() && !s3.endpoint.starts_with("http://") && !s3.endpoint.starts_with("https://"))
    p->Add("s3.endpoint", Quoted(s3.endpoint) + " must start with http:// or https://");
  if (s3.access_key_id.empty() != s3.secret_access_key.empty())
    p->Add(s3.access_key_id.empty() ? "s3.access_key_id" : "s3.secret_access_key",
           "s3.access_key_id and s3.secret_access_key must be set together");
  if (!s3.session_token.empty() && s3.access_key_id.empty())
    p->Add("s3.session_token", "needs s3.access_key_id and s3.secret_access_key");
  CheckPositive(p, "s3.connect_timeout", s3.connect_timeout);
  CheckPositive(p, "s3.request_timeout", s3.request_timeout);
  CheckPositive(p, "s3.idle_timeout", s3.idle_timeout);
  if (s3.max_connections == 0) p->Add("s3.max_connections", "must be at least 1");
  if (s3.max_attempts == 0) p->Add("s3.max_attempts", "must be at least 1 (1 = no retries)");
  CheckNonNegative(p, "s3.retry_base_delay", s3.retry_base_delay);
  if (s3.retry_max_delay < s3.retry_base_delay)
    p->Add("s3.retry_max_delay", "must be at least s3.retry_base_delay (" + FormatDuration(s3.retry_base_delay) + ")");
  constexpr uint64_t kMiB = 1 << 20;
  if (s3.multipart_part_size < 5 * kMiB || s3.multipart_part_size > 5 * 1024 * kMiB)
    p->Add("s3.multipart_part_size", std::to_string(s3.multipart_part_size) +
                                         " is outside S3's part size limits (5 MiB to 5 GiB)");
  if (s3.multipart_threshold < s3.multipart_part_size)
    p->Add("s3.multipart_threshold", "must be at least s3.multipart_part_size (" +
                                         std::to_string(s3.multipart_part_size) + ")");
}

// Names in one list: non-empty and unique.
void CheckNames(Problems* p, const std::string& key, const std::vector<std::string>& names) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      p->Add(key + "[" + std::to_string(i) + "]", "must not be empty");
    } else if (!seen.insert(names[i]).second) {
      p->Add(key, Quoted(names[i]) + " is listed twice");
    }
  }
}

void CheckSchema(Problems* p, const SchemaOptions& s) {
  if (s.id_field.empty()) p->Add("schema.id_field", "must not be empty");
  if (s.version_field.empty()) p->Add("schema.version_field", "must not be empty");
  if (!s.id_field.empty() && s.id_field == s.version_field)
    p->Add("schema.version_field", "must differ from schema.id_field");
  if (s.max_field_bytes == 0) p->Add("schema.max_field_bytes", "must be positive");
  if (s.max_record_bytes == 0) p->Add("schema.max_record_bytes", "must be positive");

  if (s.type_field.empty() && !s.levels.empty())
    p->Add("schema.type_field", "a hierarchical schema (schema.levels is not empty) needs the field that names "
                                "each record's level");
  if (!s.type_field.empty() && s.levels.empty())
    p->Add("schema.levels", "schema.type_field is set, so at least one level is needed (or clear type_field "
                            "for a flat schema)");

  // Fields every record carries for freshet itself; inheriting one would
  // overwrite the child's own value.
  std::set<std::string_view> reserved = {s.id_field, s.version_field};
  if (!s.deleted_field.empty()) reserved.insert(s.deleted_field);
  if (!s.type_field.empty()) reserved.insert(s.type_field);

  std::set<std::string_view> level_names;
  for (size_t i = 0; i < s.levels.size(); ++i) {
    const LevelOptions& l = s.levels[i];
    const std::string key = "schema.levels[" + std::to_string(i) + "]";
    if (l.name.empty()) {
      p->Add(key + ".name", "must not be empty");
    } else if (!level_names.insert(l.name).second) {
      p->Add(key + ".name", Quoted(l.name) + " names two levels");
    }
    if (i == 0 && !l.parent_field.empty())
      p->Add(key + ".parent_field", "the root level has no parent; leave it empty");
    if (i > 0 && l.parent_field.empty())
      p->Add(key + ".parent_field", "must name the field holding the parent's id (every level but the root has one)");
    if (!l.status_field.empty() && l.active_values.empty())
      p->Add(key + ".active_values", "status_field is set, so list the values that count as active");
    if (l.status_field.empty() && !l.active_values.empty())
      p->Add(key + ".status_field", "active_values are listed but no status_field names where to find them");
    CheckNames(p, key + ".active_values", l.active_values);
    CheckNames(p, key + ".inherit", l.inherit);
    for (const auto& f : l.inherit)
      if (reserved.count(f)) p->Add(key + ".inherit", Quoted(f) + " is a schema key field and cannot be inherited");
  }

  CheckNames(p, "schema.text_fields", s.text_fields);
  CheckNames(p, "schema.keyword_fields", s.keyword_fields);
  CheckNames(p, "schema.stored_fields", s.stored_fields);
  std::set<std::string_view> text(s.text_fields.begin(), s.text_fields.end());
  for (const auto& f : s.keyword_fields)
    if (!f.empty() && text.count(f))
      p->Add("schema.keyword_fields", Quoted(f) + " is also in schema.text_fields; a field is either tokenized "
                                                  "(text) or exact (keyword), not both");
}

void CheckListen(Problems* p, const std::string& listen) {
  if (listen.empty()) return;  // endpoint disabled
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return p->Add("admin.listen", Quoted(listen) + " is not \"host:port\" (or \"\" to disable)");
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.empty()) p->Add("admin.listen", Quoted(listen) + " has no host; use e.g. \"127.0.0.1:9464\"");
  if (host.find(':') != std::string::npos && !(host.size() > 2 && host.front() == '[' && host.back() == ']'))
    p->Add("admin.listen", Quoted(listen) + ": write IPv6 addresses in brackets, e.g. \"[::1]:9464\"");
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535)
    p->Add("admin.listen", Quoted(listen) + " has a bad port; expected 0..65535");
}

}  // namespace

Status CheckPartitionLayout(std::string_view layout, Duration interval) {
  if (interval <= Duration::zero()) return Status::InvalidArgument("the partition interval must be positive");
  if (interval.count() % 1000 != 0)
    return Status::InvalidArgument("the partition interval " + FormatDuration(interval) +
                                   " is not a whole number of seconds");
  constexpr int64_t kDayMs = 86'400'000;
  if (kDayMs % interval.count() != 0)
    return Status::InvalidArgument("the partition interval " + FormatDuration(interval) +
                                   " does not divide a day evenly (e.g. 1m, 5m, 15m, 1h, 1d)");
  // Conversions from coarse to fine, with the time each one resolves.
  struct Unit {
    char conv;
    int64_t ms;  // 0 for %Y/%m: coarser than any allowed interval
  };
  constexpr std::array<Unit, 6> kUnits = {{{'Y', 0}, {'m', 0}, {'d', kDayMs}, {'H', 3'600'000}, {'M', 60'000},
                                           {'S', 1000}}};
  int last = -1;  // index into kUnits of the previous conversion
  for (size_t i = 0; i < layout.size(); ++i) {
    if (layout[i] != '%') continue;
    if (i + 1 == layout.size()) return Status::InvalidArgument("ends with a lone '%' (write %% for a literal %)");
    char c = layout[++i];
    if (c == '%') continue;
    int idx = -1;
    for (size_t u = 0; u < kUnits.size(); ++u)
      if (kUnits[u].conv == c) idx = static_cast<int>(u);
    if (idx < 0)
      return Status::InvalidArgument(std::string("unsupported conversion %") + c + " at offset " +
                                     std::to_string(i - 1) + "; only %Y %m %d %H %M %S and %% are supported");
    constexpr const char* kOrderRule =
        "; fields must go from coarse to fine (%Y %m %d %H %M %S) with none skipped, so that folder names "
        "sort in time order";
    if (idx <= last)
      return Status::InvalidArgument(std::string("%") + c +
                                     (idx == last ? " appears twice" : " comes after a finer field") + kOrderRule);
    if (idx != last + 1)
      return Status::InvalidArgument(std::string("%") + c + " without %" + kUnits[last + 1].conv + kOrderRule);
    last = idx;
  }
  if (last < 0) return Status::InvalidArgument("has no time fields; expected e.g. %Y/%m/%d/%H/%M");
  // The finest field must resolve the interval: 5m partitions need %M.
  int64_t resolution = kUnits[last].ms;
  if (resolution == 0 || interval.count() % resolution != 0) {
    static constexpr const char* kNeed[] = {"", "", "%d", "%H", "%M", "%S"};
    int need = 2;
    while (need < 5 && interval.count() % kUnits[need].ms != 0) ++need;
    return Status::InvalidArgument("cannot hold " + FormatDuration(interval) + " partitions: its finest field is %" +
                                   kUnits[last].conv + "; add fields down to " + kNeed[need]);
  }
  return Status::Ok();
}

Status ValidateOptions(const Options& o) {
  Problems p;

  CheckUri(&p, "source.uri", o.source.uri);
  CheckPrefix(&p, "source.updates_prefix", o.source.updates_prefix);
  CheckPrefix(&p, "source.snapshots_prefix", o.source.snapshots_prefix);
  if (o.source.updates_prefix == o.source.snapshots_prefix)
    p.Add("source.snapshots_prefix", "must differ from source.updates_prefix");
  if (o.source.partition_interval <= Duration::zero()) {
    CheckPositive(&p, "source.partition_interval", o.source.partition_interval);
  } else if (Status st = CheckPartitionLayout(o.source.layout, o.source.partition_interval); !st.ok()) {
    // Interval-only problems belong to the interval key, the rest to the layout.
    bool about_interval = st.message().rfind("the partition interval", 0) == 0;
    p.Add(about_interval ? "source.partition_interval" : "source.layout",
          about_interval ? st.message() : Quoted(o.source.layout) + " " + st.message());
  }
  CheckNonNegative(&p, "source.relist_interval", o.source.relist_interval);

  CheckUri(&p, "sink.uri", o.sink.uri);
  if (o.sink.retain_generations < 2)
    p.Add("sink.retain_generations",
          "must be at least 2 (readers may still hold the previous generation), got " +
              std::to_string(o.sink.retain_generations));
  CheckNonNegative(&p, "sink.writer_lease", o.sink.writer_lease);

  CheckSchema(&p, o.schema);

  const PipelineOptions& pl = o.pipeline;
  CheckPositive(&p, "pipeline.trigger_interval", pl.trigger_interval);
  CheckNonNegative(&p, "pipeline.grace", pl.grace);
  CheckNonNegative(&p, "pipeline.snapshot_grace", pl.snapshot_grace);
  CheckNonNegative(&p, "pipeline.overlap", pl.overlap);
  CheckNonNegative(&p, "pipeline.full_rebuild_every", pl.full_rebuild_every);
  if (pl.max_window <= pl.overlap)
    p.Add("pipeline.max_window", FormatDuration(pl.max_window) + " must be longer than pipeline.overlap (" +
                                     FormatDuration(pl.overlap) + ")");
  if (!(pl.max_bad_ratio >= 0.0 && pl.max_bad_ratio <= 1.0))
    p.Add("pipeline.max_bad_ratio", "must be between 0 and 1, got " + std::to_string(pl.max_bad_ratio));
  if (pl.fetch_parallelism < 1 || pl.fetch_parallelism > 256)
    p.Add("pipeline.fetch_parallelism", "must be in 1..256, got " + std::to_string(pl.fetch_parallelism));
  if (pl.compute_threads > 1024)
    p.Add("pipeline.compute_threads",
          "must be in 0..1024 (0 = one per core), got " + std::to_string(pl.compute_threads));
  if (pl.io_threads < 1 || pl.io_threads > 64)
    p.Add("pipeline.io_threads", "must be in 1..64, got " + std::to_string(pl.io_threads));
  if (pl.merge_factor < 2 || pl.merge_factor > 64)
    p.Add("pipeline.merge_factor", "must be in 2..64, got " + std::to_string(pl.merge_factor));
  if (pl.memory_budget < (uint64_t{64} << 20))
    p.Add("pipeline.memory_budget", "must be at least 67108864 (64 MiB), got " + std::to_string(pl.memory_budget));
  if (pl.max_segments < std::max<uint32_t>(pl.merge_factor, 2) || pl.max_segments > 128)
    p.Add("pipeline.max_segments", "must be in merge_factor (" + std::to_string(pl.merge_factor) + ")..128, got " +
                                       std::to_string(pl.max_segments));

  const WatchdogOptions& w = o.watchdog;
  CheckPositive(&p, "watchdog.heartbeat_interval", w.heartbeat_interval);
  CheckPositive(&p, "watchdog.actor_stall", w.actor_stall);
  if (w.heartbeat_interval > Duration::zero() && w.actor_stall > Duration::zero() &&
      w.actor_stall <= w.heartbeat_interval)
    p.Add("watchdog.actor_stall", FormatDuration(w.actor_stall) + " must be longer than watchdog.heartbeat_interval (" +
                                      FormatDuration(w.heartbeat_interval) + ")");
  CheckPositive(&p, "watchdog.batch_stall", w.batch_stall);
  CheckNonNegative(&p, "watchdog.max_uptime", w.max_uptime);
  CheckPositive(&p, "watchdog.drain_timeout", w.drain_timeout);
  CheckPositive(&p, "watchdog.max_commit_age", w.max_commit_age);

  static const std::set<std::string_view> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(o.log.level))
    p.Add("log.level", config_internal::NotOneOf(o.log.level, {"trace", "debug", "info", "warn", "error"}).message());
  if (o.log.format != "text" && o.log.format != "json")
    p.Add("log.format", config_internal::NotOneOf(o.log.format, {"text", "json"}).message());

  CheckListen(&p, o.admin.listen);
  if (o.admin.status_batches < 1 || o.admin.status_batches > 10000)
    p.Add("admin.status_batches", std::to_string(o.admin.status_batches) + " is out of range; expected 1..10000");
  if (!o.admin.token.empty() && o.admin.token.find_first_of(" \t\r\n") != std::string::npos)
    p.Add("admin.token", "must not contain whitespace (it is sent as \"Authorization: Bearer <token>\")");
  CheckS3(&p, o.s3);
  return p.ToStatus();
}

std::string ScratchDir(const PipelineOptions& pipeline) {
  if (!pipeline.scratch_dir.empty()) return pipeline.scratch_dir;
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);  // $TMPDIR, else /tmp
  if (ec) tmp = "/tmp";
  return (tmp / "freshet-scratch").string();
}

}  // namespace freshet
