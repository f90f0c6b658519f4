// Turns decoded inputs into a batch's generations: docs (join, fan-out,
// tombstones), segment files, quarantine and manifests. Pure and
// synchronous: the Builder actor runs it on the compute pool, and
// `freshet verify` runs the very same code to prove idempotence.
#pragma once

#include <memory>
#include <string>

#include "base/thread_pool.h"
#include "ingest/batch_input.h"
#include "ingest/entity_table.h"
#include "config/options.h"
#include "plan/batch_planner.h"
#include "commit/built_batch.h"

namespace freshet {

// A decoded base snapshot; the Builder keeps the last one between triggers
// so deltas do not re-read it.
struct ParsedSnapshot {
  std::string identity;  // FullGenerationId of the snapshot: changes iff its objects do
  EntityTable table;
  std::vector<QuarantineEntry> bad;
  uint64_t objects = 0, bytes = 0, records_total = 0;
};

ParsedSnapshot MakeParsedSnapshot(std::string identity, DecodedInput input);

struct GenerationContext {
  const SchemaOptions* schema;
  std::string schema_hash;
  double max_bad_ratio = 0.01;
  // Threads one build may use (document assembly, file encoding): the
  // calling thread and up to threads - 1 tasks on `pool` (the daemon's
  // compute pool; the build itself may run on one of its workers). With no
  // pool and threads > 1, the build brings a pool of its own for the call
  // (tools, tests). Does not change the bytes.
  size_t threads = 1;
  ThreadPool* pool = nullptr;
};

// REQUIRES: `snapshot` is the plan's snapshot (nullptr when the plan has
// none); `window` holds the plan's window objects, decoded in key order.
// kFailedPrecondition when a bad-record ratio exceeds the limit: nothing
// must then be committed.
Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, const DecodedInput& window);
// Same, moving the window's records into its table instead of copying them
// (the daemon's path; `window` keeps its counts and quarantine).
Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, DecodedInput&& window);

}  // namespace freshet
