// The Committer's decisions as plain synchronous code: which objects a
// batch writes, in which order, what CURRENT then holds, and which
// generations retention may delete. The Committer actor only carries the
// steps out; tests replay them against a store and stop at every crash
// point.
//
// The order that keeps every crash harmless (SPEC §3):
//   1. segment files (and quarantine) of the new generations, any order
//   2. manifests, the full's before the delta's: a generation is complete
//      once its manifest exists
//   3. CURRENT: readers and restarts switch here, atomically; it embeds the
//      checkpoint (the durable watermark), so there is no second write.
//      Conditional: it replaces only the CURRENT this writer read (If-Match
//      on its ETag; If-None-Match when there was none), so a second writer
//      on the sink fails here instead of moving the watermark backwards
//   4. retention: delete generations no retained CURRENT can name
// A crash before 3 leaves the previous CURRENT valid and the batch is
// re-planned with the same ids, rewriting the same bytes under the same
// keys; a crash after 3 leaves the batch committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/batch_planner.h"
#include "plan/merge_policy.h"
#include "commit/built_batch.h"
#include "sink/sink_layout.h"
#include "storage/object_store.h"

namespace freshet {

// One step: its puts may run in parallel; the next step starts only when
// every put of this one is durable.
struct CommitStep {
  // The crash point reached just before the step runs (crash_points.h).
  std::string_view crash_point;
  std::vector<PutRequest> puts;
};

struct CommitPlan {
  std::vector<CommitStep> steps;  // files, manifest(s), CURRENT; in order
  CurrentPointer current;          // what CURRENT holds after the last step
  uint64_t bytes = 0;              // every body in every step
};

// REQUIRES: `built` was built from `plan`, and `before` is the checkpoint
// `plan` was made against (plan.batch_id == before.next_batch_id);
// `current_etag` is the ETag of the CURRENT that holds `before` (nullopt:
// the sink has no CURRENT yet).
// The bodies move out of `built` (tens of MB: no copies).
//
// Merges (SPEC §3, plan/merge_policy.h): `before.pending_merge`, decided
// after the previous batch, is made live by this commit when `merged` is
// its built segment (Merger actor) and this batch extends the chain: the
// merged segment's files and manifest are written with the batch's, and
// CURRENT holds the chain with the run replaced (ApplyMerge) and this
// batch's segment appended (a merged segment `in_sink` was written by the
// Merger ahead of the commit: only CURRENT names it here). Then the next
// merge is decided (DecideMerge with `policy`) and recorded in CURRENT's
// checkpoint. A pending merge without its segment (its build failed) is
// dropped and decided anew.
CommitPlan MakeCommitPlan(const BuildPlan& plan, BuiltBatch&& built, const Checkpoint& before,
                          const std::optional<std::string>& current_etag, const BuiltGeneration* merged = nullptr,
                          const MergePolicyOptions& policy = {});

// The generation ids (e.g. "delta/2026…-…") retention may delete, oldest
// first, given the ids listed under full/ and delta/, the CURRENT just
// committed and `retain` (the newest `retain` of each kind stay; at least 2).
// Never a generation CURRENT names (the full and every segment of the
// chain), one a batch in CURRENT's recent list named, or a segment the
// checkpoint lists as recently retired: a reader that opened an older
// CURRENT may still read those. Nor the checkpoint's pending merge, which
// the Merger writes before a commit names it.
std::vector<std::string> RetentionVictims(const CurrentPointer& current, std::vector<std::string> full_ids,
                                          std::vector<std::string> delta_ids, uint32_t retain);

}  // namespace freshet
