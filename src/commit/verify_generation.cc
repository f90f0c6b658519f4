#include "commit/verify_generation.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "ingest/batch_input.h"
#include "config/schema_hash.h"
#include "index/checksum.h"
#include "index/manifest.h"
#include "plan/batch_planner.h"
#include "commit/generation_builder.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

Result<std::optional<TimePoint>> OptionalTime(const std::string& field, const std::string& value) {
  if (value.empty()) return std::optional<TimePoint>();
  Result<TimePoint> t = ParseRfc3339(value);
  if (!t.ok()) return t.status().WithContext("manifest " + field);
  return std::optional<TimePoint>(*t);
}

Result<TimePoint> RequiredTime(const std::string& field, const std::string& value) {
  FRESHET_ASSIGN_OR_RETURN(std::optional<TimePoint> t, OptionalTime(field, value));
  if (!t) return Status::DataLoss("manifest " + field + " is empty");
  return *t;
}

std::vector<ObjectInfo> Objects(const std::vector<ManifestInput>& inputs) {
  std::vector<ObjectInfo> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs) out.push_back(ObjectInfo{in.key, in.size, in.etag});
  return out;
}

// The plan that built `m`, as far as BuildGenerations looks at it.
Result<BuildPlan> PlanFromManifest(const Manifest& m) {
  BuildPlan plan;
  if (m.kind == "full") {
    plan.kind = BatchKind::kFullAndDelta;
    FRESHET_ASSIGN_OR_RETURN(TimePoint snapshot, RequiredTime("snapshot", m.snapshot));
    plan.snapshot_time = snapshot;
    plan.snapshot_objects = Objects(m.inputs);
    plan.full_generation = m.generation;
    plan.delta_generation = "delta/verify-unused";  // the delta built alongside is not compared
    plan.window_start = plan.window_end = snapshot;
    plan.warnings = m.warnings;
    return plan;
  }
  plan.kind = BatchKind::kDelta;
  plan.full_generation = m.base;
  plan.delta_generation = m.generation;
  FRESHET_ASSIGN_OR_RETURN(plan.snapshot_time, OptionalTime("snapshot", m.snapshot));
  plan.snapshot_objects = Objects(m.base_inputs);
  FRESHET_ASSIGN_OR_RETURN(plan.window_start, RequiredTime("window_start", m.window_start));
  FRESHET_ASSIGN_OR_RETURN(plan.window_end, RequiredTime("window_end", m.window_end));
  FRESHET_ASSIGN_OR_RETURN(plan.target, OptionalTime("target", m.target));
  // The builder writes max(target, previous watermark): passing the
  // recorded watermark as the previous one reproduces it exactly.
  FRESHET_ASSIGN_OR_RETURN(plan.previous_watermark, OptionalTime("watermark", m.watermark));
  for (size_t i = 0; i < m.skipped.size(); ++i) {
    FRESHET_ASSIGN_OR_RETURN(TimePoint t, RequiredTime("skipped[" + std::to_string(i) + "]", m.skipped[i]));
    plan.skipped.push_back(t);
  }
  plan.window_objects = Objects(m.inputs);
  plan.warnings = m.warnings;
  return plan;
}

// GETs every object and checks it is still the one the manifest recorded.
Result<DecodedInput> FetchAndDecode(ObjectStore& source, const SchemaOptions& schema,
                                    const std::vector<ObjectInfo>& objects, const std::string& generation,
                                    VerifyReport* report) {
  std::vector<std::pair<ObjectInfo, std::string>> fetched;
  fetched.reserve(objects.size());
  for (const ObjectInfo& want : objects) {
    Result<GetResult> got = GetSync(source, want.key);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("input " + want.key + " of " + generation + " is gone from " + source.Describe() +
                                ": cannot rebuild");
      }
      return got.status().WithContext("reading input " + want.key);
    }
    if (got->body.size() != want.size || got->info.etag != want.etag) {
      return Status::FailedPrecondition("input " + want.key + " changed since " + generation + " was built: size " +
                                        std::to_string(want.size) + " etag " + want.etag + " recorded, now size " +
                                        std::to_string(got->body.size()) + " etag " + got->info.etag);
    }
    ++report->inputs;
    report->input_bytes += got->body.size();
    fetched.emplace_back(want, std::move(got->body));
  }
  return DecodeAndParse(schema, fetched);
}

std::string Describe(std::string_view bytes) {
  return std::to_string(bytes.size()) + " bytes xxh64 " + Xxh64Hex(bytes);
}

// "line N: stored `...` / rebuilt `...`" for the first differing line.
std::string FirstDifferingLine(std::string_view a, std::string_view b) {
  size_t line = 1, start = 0, i = 0;
  for (; i < a.size() && i < b.size() && a[i] == b[i]; ++i) {
    if (a[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  auto line_at = [start](std::string_view s) {
    std::string_view rest = s.substr(std::min(start, s.size()));
    std::string_view l = rest.substr(0, std::min(rest.find('\n'), size_t{120}));
    return std::string(l);
  };
  return "line " + std::to_string(line) + ": stored `" + line_at(a) + "`, rebuilt `" + line_at(b) + "`";
}

}  // namespace

Result<VerifyReport> VerifyGeneration(ObjectStore& sink, ObjectStore& source, const Options& options,
                                      const std::string& generation) {
  VerifyReport report;
  report.generation = generation;
  const std::string manifest_key = GenerationFileKey(generation, kManifestName);
  Result<GetResult> stored_manifest = GetSync(sink, manifest_key);
  if (!stored_manifest.ok()) return stored_manifest.status().WithContext("reading " + manifest_key);
  Result<Manifest> parsed = ParseManifest(stored_manifest->body);
  if (!parsed.ok()) return parsed.status().WithContext(manifest_key);
  const Manifest& m = *parsed;
  if (m.generation != generation) {
    return Status::DataLoss(manifest_key + ": describes generation '" + m.generation + "'");
  }
  report.kind = m.kind;

  const std::string schema_hash = SchemaHash(options.schema);
  if (schema_hash != m.schema_hash) {
    return Status::FailedPrecondition(generation + " was built with schema " + m.schema_hash +
                                      ", the config's schema is " + schema_hash +
                                      ": verify needs the config the generation was built with");
  }
  FRESHET_ASSIGN_OR_RETURN(BuildPlan plan, PlanFromManifest(m));

  std::optional<ParsedSnapshot> snapshot;
  if (plan.kind == BatchKind::kFullAndDelta || (plan.snapshot_time && !plan.snapshot_objects.empty())) {
    FRESHET_ASSIGN_OR_RETURN(DecodedInput decoded,
                             FetchAndDecode(source, options.schema, plan.snapshot_objects, generation, &report));
    snapshot = MakeParsedSnapshot(plan.full_generation, std::move(decoded));
  }
  FRESHET_ASSIGN_OR_RETURN(DecodedInput window,
                           FetchAndDecode(source, options.schema, plan.window_objects, generation, &report));

  GenerationContext ctx{&options.schema, schema_hash, /*max_bad_ratio=*/1.0};
  Result<BuiltBatch> built = BuildGenerations(ctx, plan, snapshot ? &*snapshot : nullptr, window);
  if (!built.ok()) return built.status().WithContext("rebuilding " + generation);
  const BuiltGeneration& rebuilt = plan.kind == BatchKind::kFullAndDelta ? *built->full : built->delta;

  for (const SegmentFile& f : rebuilt.files) {
    const std::string key = GenerationFileKey(generation, f.name);
    report.compared.push_back(key);
    Result<GetResult> stored = GetSync(sink, key);
    if (!stored.ok()) {
      if (stored.status().code() != StatusCode::kNotFound) return stored.status().WithContext("reading " + key);
      report.differences.push_back(key + ": missing from the sink, rebuilt " + Describe(f.bytes));
      continue;
    }
    if (stored->body != f.bytes) {
      report.differences.push_back(key + ": stored " + Describe(stored->body) + ", rebuilt " + Describe(f.bytes));
    }
  }
  for (const ManifestFile& f : m.files) {
    auto same = [&f](const SegmentFile& r) { return r.name == f.name; };
    if (std::none_of(rebuilt.files.begin(), rebuilt.files.end(), same)) {
      report.differences.push_back(GenerationFileKey(generation, f.name) +
                                   ": listed in the stored manifest, but the rebuild has no such file");
    }
  }
  report.compared.push_back(manifest_key);
  if (stored_manifest->body != rebuilt.manifest_json) {
    report.differences.push_back(manifest_key + ": stored " + Describe(stored_manifest->body) + ", rebuilt " +
                                 Describe(rebuilt.manifest_json) + "; first difference at " +
                                 FirstDifferingLine(stored_manifest->body, rebuilt.manifest_json));
  }
  return report;
}

}  // namespace freshet
