#include "commit/commit_plan.h"

#include <algorithm>
#include <set>

namespace freshet {

CommitPlan MakeCommitPlan(const BuildPlan& plan, BuiltBatch&& built, const Checkpoint& before,
                          const std::optional<std::string>& current_etag, const BuiltGeneration* merged,
                          const MergePolicyOptions& policy) {
  CommitPlan out;
  const bool extends = plan.kind == BatchKind::kDelta && !built.delta.starts_chain;
  const bool merging = extends && merged != nullptr && before.pending_merge && merged->id == before.pending_merge->id;
  // Sizes before the bodies move out.
  const uint64_t merged_bytes = merging ? merged->output_bytes : 0;
  const uint64_t segment_bytes = built.delta.output_bytes;
  // The full's generation first in every step, so a delta never exists
  // without its base (it does not matter for readers, who go through
  // CURRENT, but it keeps a half-written sink easy to read by eye).
  // The merged segment is copied, not moved: the Committer keeps it for a
  // retry should this commit fail.
  std::optional<BuiltGeneration> merged_copy;
  if (merging) merged_copy = *merged;
  std::vector<BuiltGeneration*> gens;
  if (built.full) gens.push_back(&*built.full);
  if (merged_copy) gens.push_back(&*merged_copy);
  gens.push_back(&built.delta);

  CommitStep files{"before-segments", {}};
  for (BuiltGeneration* g : gens) {
    if (g->in_sink) continue;  // written ahead (a merge): CURRENT alone makes it live
    for (SegmentFile& f : g->files) {
      out.bytes += f.size();
      PutRequest put{GenerationFileKey(g->id, f.name), std::move(f.bytes), false};
      put.body_file = f.spool;  // shared: the Committer may keep `merged` for a retry
      files.puts.push_back(std::move(put));
    }
  }
  out.steps.push_back(std::move(files));

  bool first_manifest = true;
  for (BuiltGeneration* g : gens) {
    if (g->in_sink) continue;
    out.bytes += g->manifest_json.size();
    out.steps.push_back({first_manifest ? "before-manifest" : "", {}});
    out.steps.back().puts.push_back({GenerationFileKey(g->id, kManifestName), std::move(g->manifest_json), false});
    first_manifest = false;
  }

  Checkpoint after = merging ? ApplyMerge(before, merged_bytes, plan.batch_id) : before;
  after = AdvanceCheckpoint(after, plan, built.delta.starts_chain, segment_bytes);
  after.pending_merge = DecideMerge(after, policy);
  out.current = CurrentFrom(std::move(after));
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
  // Every segment of the chain, and those that left it recently (a reader
  // on an older CURRENT overlays them).
  referenced.insert(current.chain.begin(), current.chain.end());
  for (const Checkpoint::Retired& r : current.checkpoint.retired) referenced.insert(r.id);
  // The pending merge: the Merger writes it ahead of the commit that names it.
  if (current.checkpoint.pending_merge) referenced.insert(current.checkpoint.pending_merge->id);
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
