#include "config/option_fields.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/config_loader.h"
#include "freshet/time.h"

namespace freshet::config_internal {
namespace {

template <typename S>
using F = FieldSpec<S>;

// clang-format off
constexpr F<Options> kSourceFields[] = {
    {"uri",                [](Options& o) -> FieldRef { return &o.source.uri; }},
    {"updates_prefix",     [](Options& o) -> FieldRef { return &o.source.updates_prefix; }},
    {"snapshots_prefix",   [](Options& o) -> FieldRef { return &o.source.snapshots_prefix; }},
    {"layout",             [](Options& o) -> FieldRef { return &o.source.layout; }},
    {"partition_interval", [](Options& o) -> FieldRef { return &o.source.partition_interval; }},
    {"relist_interval",    [](Options& o) -> FieldRef { return &o.source.relist_interval; }},
};
constexpr F<Options> kSinkFields[] = {
    {"uri",                [](Options& o) -> FieldRef { return &o.sink.uri; }},
    {"retain_generations", [](Options& o) -> FieldRef { return &o.sink.retain_generations; }},
    {"writer_lease",       [](Options& o) -> FieldRef { return &o.sink.writer_lease; }},
};
constexpr F<Options> kSchemaFields[] = {
    {"id_field",         [](Options& o) -> FieldRef { return &o.schema.id_field; }},
    {"version_field",    [](Options& o) -> FieldRef { return &o.schema.version_field; }},
    {"deleted_field",    [](Options& o) -> FieldRef { return &o.schema.deleted_field; }},
    {"type_field",       [](Options& o) -> FieldRef { return &o.schema.type_field; }},
    {"group_field",      [](Options& o) -> FieldRef { return &o.schema.group_field; }},
    {"levels",           [](Options& o) -> FieldRef { return &o.schema.levels; }},
    {"text_fields",      [](Options& o) -> FieldRef { return &o.schema.text_fields; }},
    {"keyword_fields",   [](Options& o) -> FieldRef { return &o.schema.keyword_fields; }},
    {"stored_fields",    [](Options& o) -> FieldRef { return &o.schema.stored_fields; }},
    {"max_field_bytes",  [](Options& o) -> FieldRef { return &o.schema.max_field_bytes; }},
    {"max_record_bytes", [](Options& o) -> FieldRef { return &o.schema.max_record_bytes; }},
};
constexpr F<Options> kPipelineFields[] = {
    {"trigger",               [](Options& o) -> FieldRef { return &o.pipeline.trigger; }},
    {"trigger_interval",      [](Options& o) -> FieldRef { return &o.pipeline.trigger_interval; }},
    {"trigger_pending_bytes", [](Options& o) -> FieldRef { return &o.pipeline.trigger_pending_bytes; }},
    {"policy",                [](Options& o) -> FieldRef { return &o.pipeline.policy; }},
    {"grace",                 [](Options& o) -> FieldRef { return &o.pipeline.grace; }},
    {"snapshot_grace",        [](Options& o) -> FieldRef { return &o.pipeline.snapshot_grace; }},
    {"overlap",               [](Options& o) -> FieldRef { return &o.pipeline.overlap; }},
    {"max_window",            [](Options& o) -> FieldRef { return &o.pipeline.max_window; }},
    {"full_rebuild_every",    [](Options& o) -> FieldRef { return &o.pipeline.full_rebuild_every; }},
    {"max_bad_ratio",         [](Options& o) -> FieldRef { return &o.pipeline.max_bad_ratio; }},
    {"fetch_parallelism",     [](Options& o) -> FieldRef { return &o.pipeline.fetch_parallelism; }},
    {"compute_threads",       [](Options& o) -> FieldRef { return &o.pipeline.compute_threads; }},
    {"io_threads",            [](Options& o) -> FieldRef { return &o.pipeline.io_threads; }},
    {"merge_factor",          [](Options& o) -> FieldRef { return &o.pipeline.merge_factor; }},
    {"max_segments",          [](Options& o) -> FieldRef { return &o.pipeline.max_segments; }},
    {"memory_budget",         [](Options& o) -> FieldRef { return &o.pipeline.memory_budget; }},
    {"scratch_dir",           [](Options& o) -> FieldRef { return &o.pipeline.scratch_dir; }},
};
constexpr F<Options> kWatchdogFields[] = {
    {"heartbeat_interval", [](Options& o) -> FieldRef { return &o.watchdog.heartbeat_interval; }},
    {"actor_stall",        [](Options& o) -> FieldRef { return &o.watchdog.actor_stall; }},
    {"batch_stall",        [](Options& o) -> FieldRef { return &o.watchdog.batch_stall; }},
    {"max_uptime",         [](Options& o) -> FieldRef { return &o.watchdog.max_uptime; }},
    {"drain_timeout",      [](Options& o) -> FieldRef { return &o.watchdog.drain_timeout; }},
    {"max_commit_age",     [](Options& o) -> FieldRef { return &o.watchdog.max_commit_age; }},
    {"state_file",         [](Options& o) -> FieldRef { return &o.watchdog.state_file; }},
};
constexpr F<Options> kLogFields[] = {
    {"level",  [](Options& o) -> FieldRef { return &o.log.level; }},
    {"format", [](Options& o) -> FieldRef { return &o.log.format; }},
};
constexpr F<Options> kAdminFields[] = {
    {"listen",         [](Options& o) -> FieldRef { return &o.admin.listen; }},
    {"token",          [](Options& o) -> FieldRef { return &o.admin.token; }},
    {"status_batches", [](Options& o) -> FieldRef { return &o.admin.status_batches; }},
};
constexpr F<Options> kS3Fields[] = {
    {"region",              [](Options& o) -> FieldRef { return &o.s3.region; }},
    {"endpoint",            [](Options& o) -> FieldRef { return &o.s3.endpoint; }},
    {"addressing",          [](Options& o) -> FieldRef { return &o.s3.addressing; }},
    {"access_key_id",       [](Options& o) -> FieldRef { return &o.s3.access_key_id; }},
    {"secret_access_key",   [](Options& o) -> FieldRef { return &o.s3.secret_access_key; }},
    {"session_token",       [](Options& o) -> FieldRef { return &o.s3.session_token; }},
    {"sse",                 [](Options& o) -> FieldRef { return &o.s3.sse; }},
    {"sse_kms_key_id",      [](Options& o) -> FieldRef { return &o.s3.sse_kms_key_id; }},
    {"sse_customer_key",    [](Options& o) -> FieldRef { return &o.s3.sse_customer_key; }},
    {"profile",             [](Options& o) -> FieldRef { return &o.s3.profile; }},
    {"verify_tls",          [](Options& o) -> FieldRef { return &o.s3.verify_tls; }},
    {"ca_file",             [](Options& o) -> FieldRef { return &o.s3.ca_file; }},
    {"connect_timeout",     [](Options& o) -> FieldRef { return &o.s3.connect_timeout; }},
    {"request_timeout",     [](Options& o) -> FieldRef { return &o.s3.request_timeout; }},
    {"idle_timeout",        [](Options& o) -> FieldRef { return &o.s3.idle_timeout; }},
    {"max_connections",     [](Options& o) -> FieldRef { return &o.s3.max_connections; }},
    {"max_attempts",        [](Options& o) -> FieldRef { return &o.s3.max_attempts; }},
    {"retry_base_delay",    [](Options& o) -> FieldRef { return &o.s3.retry_base_delay; }},
    {"retry_max_delay",     [](Options& o) -> FieldRef { return &o.s3.retry_max_delay; }},
    {"multipart_threshold", [](Options& o) -> FieldRef { return &o.s3.multipart_threshold; }},
    {"multipart_part_size", [](Options& o) -> FieldRef { return &o.s3.multipart_part_size; }},
};
constexpr F<LevelOptions> kLevelFields[] = {
    {"name",          [](LevelOptions& l) -> FieldRef { return &l.name; }},
    {"parent_field",  [](LevelOptions& l) -> FieldRef { return &l.parent_field; }},
    {"status_field",  [](LevelOptions& l) -> FieldRef { return &l.status_field; }},
    {"active_values", [](LevelOptions& l) -> FieldRef { return &l.active_values; }},
    {"inherit",       [](LevelOptions& l) -> FieldRef { return &l.inherit; }},
};
// clang-format on

constexpr SectionSpec kSections[] = {
    {"source", kSourceFields, true},     {"sink", kSinkFields, true},
    {"schema", kSchemaFields, false},    {"pipeline", kPipelineFields, true},
    {"watchdog", kWatchdogFields, true}, {"log", kLogFields, true},
    {"admin", kAdminFields, true},       {"s3", kS3Fields, true},
};

std::string Normalize(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '-') c = '_';
  }
  return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent
// transpositions, the commonest typo ("levle").
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <typename T>
Status ParseUnsigned(std::string_view text, T* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
    return Status::InvalidArgument("\"" + std::string(text) + "\" is not a non-negative whole number");
  if (ec == std::errc::result_out_of_range || v > std::numeric_limits<T>::max())
    return Status::InvalidArgument(std::string(text) + " is larger than " +
                                   std::to_string(std::numeric_limits<T>::max()));
  *out = static_cast<T>(v);
  return Status::Ok();
}

}  // namespace

Status NotOneOf(std::string_view text, std::initializer_list<std::string_view> choices) {
  std::string msg = "\"" + std::string(text.substr(0, 64)) + "\" is not one of";
  for (std::string_view c : choices) msg += " " + std::string(c);
  if (text.size() <= 64) {
    std::vector<std::string_view> v(choices);
    std::string_view close = ClosestMatch(text, v);
    if (!close.empty()) msg += "; did you mean " + std::string(close) + "?";
  }
  return Status::InvalidArgument(msg);
}

bool IsScalar(const FieldRef& ref) {
  return !std::holds_alternative<std::vector<std::string>*>(ref) &&
         !std::holds_alternative<std::vector<LevelOptions>*>(ref);
}

std::span<const SectionSpec> Sections() { return kSections; }
std::span<const FieldSpec<LevelOptions>> LevelFields() { return kLevelFields; }

Result<Duration> ParseConfigDuration(std::string_view text) {
  // ParseDuration caps each number but not number * unit or the sum, so
  // "9999999999d" would overflow int64 milliseconds; stop that here.
  constexpr long double kMaxMs = 100.0L * 366 * 86'400'000;
  long double total = 0;
  size_t p = 0;
  while (p < text.size()) {
    long double n = 0;
    size_t digits = 0;
    while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) {
      n = n * 10 + (text[p] - '0');
      ++p;
      ++digits;
    }
    if (digits == 0) break;  // malformed: ParseDuration explains
    size_t u = p;
    while (p < text.size() && std::isalpha(static_cast<unsigned char>(text[p]))) ++p;
    std::string_view unit = text.substr(u, p - u);
    long double mult = unit == "d" ? 86'400'000.0L : unit == "h" ? 3'600'000.0L : unit == "m" ? 60'000.0L
                     : unit == "s" ? 1000.0L : 1.0L;
    total += n * mult;
    if (total > kMaxMs)
      return Status::InvalidArgument("duration \"" + std::string(text.substr(0, 64)) +
                                     "\" is too large (more than 100 years)");
  }
  return ParseDuration(text);
}

Status SetScalarFromString(std::string_view text, const FieldRef& ref) {
  struct Visitor {
    std::string_view text;
    Status operator()(std::string* s) const {
      *s = std::string(text);
      return Status::Ok();
    }
    Status operator()(Duration* d) const {
      auto r = ParseConfigDuration(text);
      if (!r.ok()) return r.status();
      *d = *r;
      return Status::Ok();
    }
    Status operator()(uint32_t* v) const { return ParseUnsigned(text, v); }
    Status operator()(uint64_t* v) const { return ParseUnsigned(text, v); }
    Status operator()(double* v) const {
      double d = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d))
        return Status::InvalidArgument("\"" + std::string(text) + "\" is not a number");
      *v = d;
      return Status::Ok();
    }
    Status operator()(bool* b) const {
      if (text == "true") *b = true;
      else if (text == "false") *b = false;
      else return NotOneOf(text, {"true", "false"});
      return Status::Ok();
    }
    Status operator()(TriggerMode* m) const {
      for (TriggerMode c : {TriggerMode::kInterval, TriggerMode::kContinuous, TriggerMode::kOnce,
                            TriggerMode::kAvailableNow}) {
        if (TriggerModeName(c) == text) {
          *m = c;
          return Status::Ok();
        }
      }
      return NotOneOf(text, {"interval", "continuous", "once", "available_now"});
    }
    Status operator()(PlanPolicy* p) const {
      for (PlanPolicy c : {PlanPolicy::kLatest, PlanPolicy::kSequential}) {
        if (PlanPolicyName(c) == text) {
          *p = c;
          return Status::Ok();
        }
      }
      return NotOneOf(text, {"latest", "sequential"});
    }
    Status operator()(std::vector<std::string>*) const {
      return Status::InvalidArgument("a list cannot be set from a single string");
    }
    Status operator()(std::vector<LevelOptions>*) const {
      return Status::InvalidArgument("a list cannot be set from a single string");
    }
  };
  return std::visit(Visitor{text}, ref);
}

std::string_view ClosestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string w = Normalize(word);
  // Allow roughly one edit per three characters, at least one and at most three.
  const size_t limit = std::clamp<size_t>(w.size() / 3, 1, 3);
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(w, Normalize(c));
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty() || w.empty()) return best;
  // A word missing its suffix or carrying an extra one: "parent" for
  // "parent_field", "grace_period" for "grace", "warning" for "warn".
  for (std::string_view c : candidates) {
    std::string n = Normalize(c);
    if (std::min(n.size(), w.size()) >= 3 && (n.starts_with(w) || w.starts_with(n))) return c;
  }
  return best;
}

}  // namespace freshet::config_internal
