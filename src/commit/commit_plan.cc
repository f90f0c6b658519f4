#include "commit/commit_plan.h"

#include <algorithm>
#include <set>

namespace freshet {

CommitPlan MakeCommitPlan(const BuildPlan& plan, BuiltBatch&& built, const Checkpoint& before,
                          const std::optional<std::string>& current_etag) {
  CommitPlan out;
  // The full's generation first in every step, so a delta never exists
  // without its base (it does not matter for readers, who go through
  // CURRENT, but it keeps a half-written sink easy to read by eye).
  std::vector<BuiltGeneration*> gens;
  if (built.full) gens.push_back(&*built.full);
  gens.push_back(&built.delta);

  CommitStep files{"before-segments", {}};
  for (BuiltGeneration* g : gens) {
    for (SegmentFile& f : g->files) {
      out.bytes += f.bytes.size();
      files.puts.push_back({GenerationFileKey(g->id, f.name), std::move(f.bytes), false});
    }
  }
  out.steps.push_back(std::move(files));

  bool first_manifest = true;
  for (BuiltGeneration* g : gens) {
    out.bytes += g->manifest_json.size();
    out.steps.push_back({first_manifest ? "before-manifest" : "", {}});
    out.steps.back().puts.push_back({GenerationFileKey(g->id, kManifestName), std::move(g->manifest_json), false});
    first_manifest = false;
  }

  Checkpoint after = AdvanceCheckpoint(before, plan);
  out.current.full = after.base_generation;
  out.current.delta = after.delta_generation;
  out.current.watermark = after.watermark;
  out.current.checkpoint = std::move(after);
  std::string current = EncodeCurrent(out.current);
  out.bytes += current.size();
  out.steps.push_back({"before-current", {}});
  PutRequest put{std::string(kCurrentKey), std::move(current), !current_etag.has_value(), current_etag};
  out.steps.back().puts.push_back(std::move(put));
  return out;
}

std::vector<std::string> RetentionVictims(const CurrentPointer& current, std::vector<std::string> full_ids,
                                          std::vector<std::string> delta_ids, uint32_t retain) {
  retain = std::max<uint32_t>(retain, 2);
  std::set<std::string> referenced = {current.full, current.delta};
  for (const BatchDescriptor& b : current.checkpoint.recent) {
    referenced.insert(b.full_generation);
    referenced.insert(b.delta_generation);
  }
  std::vector<std::string> victims;
  for (std::vector<std::string>* ids : {&full_ids, &delta_ids}) {
    // Ids begin with their UTC time stamp: lexicographic order is age order.
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
    if (ids->size() <= retain) continue;
    const size_t removable = ids->size() - retain;
    for (size_t i = 0; i < removable; ++i) {
      if (!referenced.count((*ids)[i])) victims.push_back((*ids)[i]);
    }
  }
  return victims;
}

}  // namespace freshet
