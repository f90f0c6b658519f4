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
#include "commit/segment_chain.h"
#include "commit/segment_merge.h"
#include "ingest/doc_assembler.h"
#include "sink/checkpoint.h"
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

Result<Manifest> ReadManifestOf(ObjectStore& sink, const std::string& id) {
  const std::string key = GenerationFileKey(id, kManifestName);
  Result<GetResult> got = GetSync(sink, key);
  if (!got.ok()) return got.status().WithContext("reading " + key);
  Result<Manifest> m = ParseManifest(got->body);
  if (!m.ok()) return m.status().WithContext(key);
  return m;
}

// The manifests of the chain before segment `m`, oldest first, found by
// following predecessor links through the sink; a predecessor that a merge
// replaced (and retention deleted) is found as the last member of a
// segment of `live_chain`.
Result<std::vector<Manifest>> ChainBefore(ObjectStore& sink, const Manifest& m,
                                          const std::vector<std::string>& live_chain) {
  std::vector<Manifest> back;
  std::string id = m.predecessor;
  while (!id.empty()) {
    if (back.size() > kMaxChainLength) return Status::DataLoss(m.generation + ": its chain is longer than the limit");
    const std::string key = GenerationFileKey(id, kManifestName);
    Result<GetResult> got = GetSync(sink, key);
    if (!got.ok() && got.status().code() == StatusCode::kNotFound) {
      for (const std::string& live : live_chain) {
        Result<Manifest> lm = ReadManifestOf(sink, live);
        if (lm.ok() && !lm->merged.empty() && lm->merged.back() == id) {
          id = lm->generation;
          got = GetSync(sink, GenerationFileKey(id, kManifestName));
          break;
        }
      }
    }
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("segment " + id + ", on the chain before " + m.generation +
                                ", is gone from the sink (merged or retired): cannot replay the chain");
      }
      return got.status().WithContext("reading " + key);
    }
    Result<Manifest> pm = ParseManifest(got->body);
    if (!pm.ok()) return pm.status().WithContext(key);
    id = pm->predecessor;
    back.push_back(std::move(pm).value());
  }
  std::reverse(back.begin(), back.end());
  return back;
}

Result<SegmentBytes> ReadSegment(ObjectStore& sink, const Manifest& m, VerifyReport* report) {
  SegmentBytes s;
  s.manifest = m;
  for (const ManifestFile& f : m.files) {
    const std::string key = GenerationFileKey(m.generation, f.name);
    Result<GetResult> got = GetSync(sink, key);
    if (!got.ok()) return got.status().WithContext("reading " + key);
    if (report) report->compared.push_back(key);
    s.files[f.name] = std::move(got->body);
  }
  return s;
}

// A merged segment whose members are all still in the sink: merge them
// again and compare bytes. False when a member is gone.
Result<bool> VerifyByMerging(ObjectStore& sink, const Options& options, const Manifest& m,
                             const std::vector<std::string>& live_chain, const std::string& stored_manifest,
                             VerifyReport* report) {
  std::vector<SegmentBytes> run;
  for (const std::string& id : m.merged) {
    Result<Manifest> member = ReadManifestOf(sink, id);
    if (!member.ok()) {
      if (member.status().code() == StatusCode::kNotFound) return false;
      return member.status();
    }
    FRESHET_ASSIGN_OR_RETURN(SegmentBytes bytes, ReadSegment(sink, *member, nullptr));
    run.push_back(std::move(bytes));
  }
  std::vector<ObjectInfo> window_before;
  if (!run.front().manifest.predecessor.empty()) {
    FRESHET_ASSIGN_OR_RETURN(std::vector<Manifest> prefix, ChainBefore(sink, run.front().manifest, live_chain));
    FRESHET_ASSIGN_OR_RETURN(window_before, ChainWindow(prefix, m.base));
  }
  GenerationContext ctx{&options.schema, SchemaHash(options.schema), 1.0};
  FRESHET_ASSIGN_OR_RETURN(BuiltGeneration merged, MergeSegments(ctx, run, window_before));
  for (const SegmentFile& f : merged.files) {
    const std::string key = GenerationFileKey(m.generation, f.name);
    report->compared.push_back(key);
    Result<GetResult> stored = GetSync(sink, key);
    if (!stored.ok()) return stored.status().WithContext("reading " + key);
    if (stored->body != f.bytes) {
      report->differences.push_back(key + ": stored " + Describe(stored->body) + ", merged again " +
                                    Describe(f.bytes));
    }
  }
  report->compared.push_back(GenerationFileKey(m.generation, kManifestName));
  if (stored_manifest != merged.manifest_json) {
    report->differences.push_back(GenerationFileKey(m.generation, kManifestName) + ": stored " +
                                  Describe(stored_manifest) + ", merged again " + Describe(merged.manifest_json) +
                                  "; first difference at " + FirstDifferingLine(stored_manifest, merged.manifest_json));
  }
  return true;
}

std::vector<std::string_view> SortedTerms(const IndexDoc& d) {
  std::vector<std::string_view> t(d.terms.begin(), d.terms.end());
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

bool SameDoc(const IndexDoc& a, const IndexDoc& b) {
  return a.id == b.id && a.tombstone == b.tombstone && a.stored == b.stored && SortedTerms(a) == SortedTerms(b);
}

// A merged segment (members gone) against the replay of its window change:
// see VerifyGeneration.
Status CompareMergedDocs(ObjectStore& sink, const Options& options, const Manifest& m, const BuiltGeneration& rebuilt,
                         const ParsedSnapshot* snapshot, VerifyReport* report) {
  FRESHET_ASSIGN_OR_RETURN(SegmentBytes stored_bytes, ReadSegment(sink, m, report));
  std::map<std::string, IndexDoc> stored, replayed;
  FRESHET_RETURN_IF_ERROR(ReadSegmentDocs(stored_bytes, &stored));
  SegmentBytes replay_bytes;
  FRESHET_ASSIGN_OR_RETURN(replay_bytes.manifest, ParseManifest(rebuilt.manifest_json));
  for (const SegmentFile& f : rebuilt.files) replay_bytes.files[f.name] = f.bytes;
  FRESHET_RETURN_IF_ERROR(ReadSegmentDocs(replay_bytes, &replayed));
  std::map<std::string, const IndexDoc*> extra;
  for (const auto& [id, doc] : stored) {
    if (!replayed.contains(id)) extra[id] = &doc;
  }
  for (const auto& [id, doc] : replayed) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      report->differences.push_back(m.generation + ": document " + id + " of the replay is missing");
    } else if (!SameDoc(it->second, doc)) {
      report->differences.push_back(m.generation + ": document " + id + " differs from the replay");
    }
  }
  if (extra.empty()) return Status::Ok();
  // Extra documents must show a reader what the full shows.
  std::map<std::string, IndexDoc> base;
  if (snapshot) {
    for (IndexDoc& d : BuildFullDocs(options.schema, snapshot->table)) {
      if (!extra.contains(d.id)) continue;
      std::string id = d.id;
      base[std::move(id)] = std::move(d);
    }
  }
  for (const auto& [id, doc] : extra) {
    auto b = base.find(id);
    const bool harmless = doc->tombstone ? b == base.end() : (b != base.end() && SameDoc(b->second, *doc));
    if (!harmless) {
      report->differences.push_back(m.generation + ": extra document " + id + " changes what readers see");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<VerifyReport> VerifyGeneration(ObjectStore& sink, ObjectStore& source, const Options& options,
                                      const std::string& generation, const std::vector<std::string>& live_chain) {
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
  // A chained segment (SPEC §3): replay the chain from its start to the
  // predecessor's window, then build the segment as the daemon did.
  std::vector<ObjectInfo> window_before;
  if (m.kind == "delta" && !m.merged.empty()) {
    Result<bool> remerged = VerifyByMerging(sink, options, m, live_chain, stored_manifest->body, &report);
    if (!remerged.ok() || *remerged) return remerged.ok() ? Result<VerifyReport>(report) : remerged.status();
  }
  if (m.kind == "delta" && !m.predecessor.empty()) {
    FRESHET_ASSIGN_OR_RETURN(std::vector<Manifest> prefix, ChainBefore(sink, m, live_chain));
    FRESHET_ASSIGN_OR_RETURN(window_before, ChainWindow(prefix, m.base));
    plan.chain = {m.predecessor};
  }

  std::optional<ParsedSnapshot> snapshot;
  if (plan.kind == BatchKind::kFullAndDelta || (plan.snapshot_time && !plan.snapshot_objects.empty())) {
    FRESHET_ASSIGN_OR_RETURN(DecodedInput decoded,
                             FetchAndDecode(source, options.schema, plan.snapshot_objects, generation, &report));
    snapshot = MakeParsedSnapshot(plan.full_generation, std::move(decoded));
  }
  GenerationContext ctx{&options.schema, schema_hash, /*max_bad_ratio=*/1.0};
  Result<BuiltBatch> built = Status::Internal("not built");
  if (plan.chain.empty()) {
    FRESHET_ASSIGN_OR_RETURN(DecodedInput window,
                             FetchAndDecode(source, options.schema, plan.window_objects, generation, &report));
    built = BuildGenerations(ctx, plan, snapshot ? &*snapshot : nullptr, window);
  } else {
    IngestedWindow state;
    WindowDiff before;
    before.fetch = window_before;
    FRESHET_ASSIGN_OR_RETURN(DecodedInput decoded_before,
                             FetchAndDecode(source, options.schema, before.fetch, generation, &report));
    state.Apply(before, std::move(decoded_before));
    (void)state.state().TakeTouched();
    WindowDiff change = state.Diff(NextWindow(window_before, m));
    FRESHET_ASSIGN_OR_RETURN(DecodedInput fetched,
                             FetchAndDecode(source, options.schema, change.fetch, generation, &report));
    DecodedInput meta;
    meta.bad = fetched.bad;
    meta.objects = fetched.objects;
    meta.bytes = fetched.bytes;
    meta.records_total = fetched.records_total;
    state.Apply(change, std::move(fetched));
    built = BuildChainBatch(ctx, plan, snapshot ? &*snapshot : nullptr, state, change, meta, false);
  }
  if (!built.ok()) return built.status().WithContext("rebuilding " + generation);
  const BuiltGeneration& rebuilt = plan.kind == BatchKind::kFullAndDelta ? *built->full : built->delta;
  if (!m.merged.empty()) {
    FRESHET_RETURN_IF_ERROR(CompareMergedDocs(sink, options, m, rebuilt, snapshot ? &*snapshot : nullptr, &report));
    return report;
  }

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
