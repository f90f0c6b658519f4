// Turns decoded inputs into a batch's generations: docs (join, fan-out,
// tombstones), segment files, quarantine and manifests. Pure and
// synchronous: the Builder actor runs it on the compute pool, and
// `freshet verify` runs the very same code to prove idempotence.
#pragma once

#include <memory>
#include <string>

#include "base/thread_pool.h"
#include "ingest/base_entities.h"
#include "ingest/batch_input.h"
#include "ingest/entity_table.h"
#include "ingest/record_runs.h"
#include "ingest/ingested_window.h"
#include "config/options.h"
#include "plan/batch_planner.h"
#include "commit/built_batch.h"
#include "index/manifest.h"
#include "index/segment_writer.h"

namespace freshet {

class StreamingFull;

// A decoded base snapshot: parsed for a full batch (and for deltas on a
// full written before fulls carried their entities), either held whole
// (`table`: tools, verify, the deltas just named) or streamed (the
// daemon's full batch, in memory bounded by pipeline.memory_budget): its
// records sorted (`sorted`), or, when they arrived in key order, already
// in the full's writers (`streaming`).
struct ParsedSnapshot {
  std::string identity;  // FullGenerationId of the snapshot: changes iff its objects do
  EntityTable table;     // empty when `sorted` is set
  // The snapshot's newest records in key order, read once by the one full
  // build that takes this snapshot (the stream is consumed). That batch's
  // delta then joins against the new full's entities, as later deltas do.
  std::shared_ptr<SortedRecords> sorted;
  // The full made as the records were parsed; the build finishes it.
  std::shared_ptr<StreamingFull> streaming;
  bool streamed() const { return sorted != nullptr || streaming != nullptr; }
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
  // A streamed snapshot's leaves are made into documents this many at a
  // time (held while their documents are made in parallel). Does not
  // change the bytes; tests shrink it. 8 Ki (four blocks of 2,048 leaves,
  // generation_builder.cc): side by side, 20 alternating pairs, 2.5% less
  // CPU than 16 Ki, the same wall and 4 MB less peak RSS (the run a full
  // reads twice, for documents and for entities, is half as large); 4 Ki
  // left threads idle at each run's end (wall +14%), as 8 Ki did when
  // blocks were 4,096. 16 Ki had been 6% faster than 32 Ki.
  size_t leaves_per_run = 8 * 1024;
  // Where a full's "stored" files (its documents' and its entities') are
  // written as they are encoded, to be committed from there
  // (SegmentWriterOptions::spool_dir); empty: in memory (tools, tests,
  // deltas). The daemon's pipeline.scratch_dir.
  std::string spool_dir;
  // With spool_dir: each of a full's writers keeps its in-memory index
  // (postings and terms) to about this many bytes, spilling sorted runs
  // to spool_dir past it (SegmentWriterOptions::index_memory_bytes).
  // 0: no limit. Does not change the bytes.
  size_t index_memory_bytes = 0;
};

// A full built while its snapshot is parsed. A snapshot whose records
// arrive in key order ((level, id), the order the external sort gives:
// a database export written out by key, as the side-by-side corpus is)
// needs no sort: each record goes into the full's writers as it comes, is
// never held, sorted or spilled, and the full is done moments after the
// last object is parsed. Of records with the same key the newest stays,
// as the sort keeps it, so the files are byte for byte those of the sorted
// path (the build of a ParsedSnapshot with `sorted`).
//
// The first record out of key order stops it: Add fails, out_of_order()
// says why, and the caller sorts the snapshot instead (RecordSorter),
// which costs one more parse of what was read so far.
//
// Thread-compatible: Add from one thread at a time (the parse's in-order
// consumer), Finish once, after the last Add (the build, through
// BuildChainBatch or BuildGenerations with a ParsedSnapshot whose
// `streaming` is this).
class StreamingFull {
 public:
  explicit StreamingFull(const GenerationContext& ctx);
  ~StreamingFull();
  StreamingFull(const StreamingFull&) = delete;
  StreamingFull& operator=(const StreamingFull&) = delete;

  // Takes every record of *records (left empty), in the order parsed, and
  // `arena` when they are packed into it (kept until the last of them is
  // written). kFailedPrecondition naming the first record out of order.
  Status Add(std::vector<EntityRecord>* records, std::unique_ptr<RecordArena> arena = nullptr);
  bool out_of_order() const;
  // Older versions dropped so far.
  uint64_t duplicates() const;
  // The full generation of `plan`; `snapshot` supplies its counts and
  // quarantine. Call once.
  Result<BuiltGeneration> Finish(const BuildPlan& plan, const ParsedSnapshot& snapshot);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// REQUIRES: `snapshot` is the plan's snapshot (nullptr when the plan has
// none); `window` holds the plan's window objects, decoded in key order.
// kFailedPrecondition when a bad-record ratio exceeds the limit: nothing
// must then be committed.
Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, const DecodedInput& window);
// (The from-scratch delta starts a chain: BuiltGeneration::starts_chain.)

// Finishes the segment `writer` holds into generation `id`: its files, the
// quarantine object when `quarantine` (NDJSON) is not empty, and
// `manifest` completed with the counts, fields and files, encoded last.
// `extra_files` (another segment's, e.g. a full's entities) are added as
// they are.
Result<BuiltGeneration> AssembleGeneration(const GenerationContext& ctx, std::string id, Manifest manifest,
                                           SegmentWriter& writer, std::string quarantine,
                                           std::vector<SegmentFile> extra_files = {});
//
// One batch of the incremental daemon: the delta is one segment of the
// chain (SPEC §3). REQUIRES: `window` is at the plan's window: the caller
// applied `change` (window.Diff(plan.window_objects)) with `fetched`, the
// decoded objects of change.fetch (its records moved into the window; its
// counts and quarantine are read here). For a kFullAndDelta plan, the new
// full as BuildGenerations makes it.
// - starts_chain (always for kFullAndDelta): the segment holds the whole
//   window's delta over the base, the very bytes BuildGenerations gives,
//   and lists every window object as input;
// - else: the entities whose window version changed (the window's touched
//   set) and their fan-out (StreamTouchedDocs), on predecessor
//   plan.chain.back(), listing change.fetch as inputs and change.removed
//   as removed.
// Takes the window's touched set either way. kFailedPrecondition when the
// new input's bad-record ratio exceeds the limit.
// The base of a kDelta plan: `entities` (the live full's entities segment)
// when given, else `snapshot`; the same bytes either way. A full batch
// needs `snapshot` and writes the new full's entities segment.
Result<BuiltBatch> BuildChainBatch(const GenerationContext& ctx, const BuildPlan& plan,
                                   const ParsedSnapshot* snapshot, IngestedWindow& window, const WindowDiff& change,
                                   const DecodedInput& fetched, bool starts_chain,
                                   const BaseEntities* entities = nullptr);
// Same, moving the window's records into its table instead of copying them
// (the daemon's path; `window` keeps its counts and quarantine).
Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, DecodedInput&& window);

}  // namespace freshet
