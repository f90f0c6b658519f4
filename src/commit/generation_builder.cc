#include "commit/generation_builder.h"

#include <algorithm>
#include <span>

#include "base/release_memory.h"
#include "ingest/doc_assembler.h"
#include "index/checksum.h"
#include "index/manifest.h"
#include "index/random_access_source.h"
#include "index/segment_format.h"
#include "index/segment_reader.h"
#include "sink/sink_layout.h"

namespace freshet {
namespace {

std::string TimeOrEmpty(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : ""; }

std::vector<ManifestInput> Inputs(const std::vector<ObjectInfo>& objects) {
  std::vector<ManifestInput> out;
  out.reserve(objects.size());
  for (const auto& o : objects) out.push_back({o.key, o.size, o.etag});
  return out;
}

SegmentWriterOptions WriterOptions(const GenerationContext& ctx) {
  SegmentWriterOptions o;
  o.threads = ctx.threads;
  o.pool = ctx.pool;
  o.ids_ascending = true;  // the assembler streams documents in id order
  return o;
}

// A full's writers: their "stored" files, each about as large as the
// snapshot compressed (the documents', and the entities' with their source
// fields), go to ctx.spool_dir as they are encoded when it is set, and
// their in-memory indexes spill sorted runs there past
// ctx.index_memory_bytes.
SegmentWriterOptions SpooledWriterOptions(const GenerationContext& ctx) {
  SegmentWriterOptions o = WriterOptions(ctx);
  o.spool_dir = ctx.spool_dir;
  o.index_memory_bytes = ctx.index_memory_bytes;
  return o;
}

// Finishes the segment `writer` holds, adds quarantine, and writes the
// manifest last.
Result<BuiltGeneration> Assemble(const GenerationContext& ctx, std::string id, Manifest manifest,
                                 SegmentWriter& writer, const std::vector<QuarantineEntry>& bad) {
  return AssembleGeneration(ctx, std::move(id), std::move(manifest), writer,
                            bad.empty() ? std::string() : QuarantineNdjson(bad));
}

}  // namespace

Result<BuiltGeneration> AssembleGeneration(const GenerationContext& ctx, std::string id, Manifest manifest,
                                           SegmentWriter& writer, std::string quarantine,
                                           std::vector<SegmentFile> extra_files) {
  FRESHET_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, writer.Finish());
  for (SegmentFile& f : extra_files) files.push_back(std::move(f));
  // The files grew by doubling and live until committed (and are copied on
  // the way): drop the slack, up to half of each.
  for (SegmentFile& f : files) f.bytes.shrink_to_fit();
  const bool has_quarantine = !quarantine.empty();
  if (has_quarantine) files.push_back({std::string(kQuarantineName), std::move(quarantine)});
  std::sort(files.begin(), files.end(), [](const SegmentFile& a, const SegmentFile& b) { return a.name < b.name; });

  BuiltGeneration g;
  g.id = std::move(id);
  const SegmentStats& st = writer.stats();
  g.docs = st.docs;
  g.tombstones = st.tombstones;
  g.terms = st.terms;
  manifest.format_version = kSegmentFormatVersion;
  manifest.text_fields = ctx.schema->text_fields;
  manifest.keyword_fields = ctx.schema->keyword_fields;
  manifest.generation = g.id;
  manifest.schema_hash = ctx.schema_hash;
  manifest.counts.docs = st.docs;
  manifest.counts.tombstones = st.tombstones;
  manifest.counts.terms = st.terms;
  manifest.counts.postings = st.postings;
  manifest.quarantine = has_quarantine ? std::string(kQuarantineName) : "";
  uint64_t out_bytes = 0;
  for (const auto& f : files) {
    manifest.files.push_back({f.name, f.size(), Xxh64ToHex(f.Xxh64())});
    out_bytes += f.size();
  }
  manifest.counts.output_bytes = out_bytes;
  g.manifest_json = ManifestToJson(manifest);
  g.output_bytes = out_bytes + g.manifest_json.size();
  g.files = std::move(files);
  return g;
}


ParsedSnapshot MakeParsedSnapshot(std::string identity, DecodedInput input) {
  ParsedSnapshot s;
  s.identity = std::move(identity);
  s.bad = std::move(input.bad);
  s.objects = input.objects;
  s.bytes = input.bytes;
  s.records_total = input.records_total;
  s.table = EntityTable::Build(std::move(input.records));
  return s;
}

namespace {

// The block cache of the new full's entities, read by its batch's delta.
constexpr size_t kNewFullEntitiesCache = 16 << 20;
// A full's documents are made in blocks of this many leaves
// (DocParallelism::block_leaves): a full has leaves enough for every
// thread, and its writer then interns and appends (block, term) pairs
// numbering about 26% of the postings instead of 35% at 512 (side-by-side
// corpus). 2,048 rather than 4,096 (21%): a block's term table (~10k terms,
// 512 KB of slots) then stays within a core's 1 MB L2, and the blocks in
// flight hold half as much. 10 alternated pairs: the same CPU, wall
// 1.35 -> 1.30 s, peak RSS 163 -> 147 MiB; 1,024 was no better.
constexpr size_t kFullBlockLeaves = 2048;

// The full's two segments, fed in (level, id) order: the documents of its
// servable leaves, and every entity (entities.*).
struct FullParts {
  FullParts(const GenerationContext& ctx, SegmentWriter& writer)
      : ctx(ctx), writer(writer), entities(*ctx.schema, SpooledWriterOptions(ctx)) {}

  // A run of leaf records in id order, their ancestors in `ancestors`.
  void AddLeaves(const EntityTable& ancestors, std::span<const EntityRecord> leaves) {
    StreamFullDocsOf(*ctx.schema, ancestors, leaves,
                     DocParallelism{ctx.pool, ctx.threads, kFullBlockLeaves, &spare_batches},
                     [this](const DocBatch& b) { writer.Add(b); });
    // A leaf's doc number in the full is its rank among the servable ones.
    size_t next = 0;
    ForEachFullDocShapeOf(*ctx.schema, ancestors, leaves, [&](size_t leaf, const std::vector<uint32_t>& stored) {
      for (; next < leaf; ++next) entities.Add(leaves[next], nullptr);  // not servable
      const FullDocRef ref{doc_number++, &stored};
      entities.Add(leaves[next++], &ref);
    });
    for (; next < leaves.size(); ++next) entities.Add(leaves[next], nullptr);
  }

  void AddTable(const EntityTable& table) {
    const auto [leaf_begin, leaf_end] = table.Level(entities.leaf());
    for (const EntityRecord& r : table.records()) {
      if (r.level < entities.leaf()) entities.Add(r, nullptr);
    }
    AddLeaves(table, std::span<const EntityRecord>(leaf_begin, leaf_end));
  }

  // The same files as AddTable over the table the stream's records make.
  // Holds the ancestors (every level above the leaves: in the ads feed, a
  // tenth of the records) and one run of leaves at a time.
  Status AddSorted(SortedRecords& sorted) {
    if (sorted.streamed() > 0) return Status::Internal("a streamed snapshot read by a second build");
    EntityRecord r;
    while (sorted.Next(&r)) {
      Add(std::move(r));
      r = EntityRecord();
    }
    FRESHET_RETURN_IF_ERROR(sorted.status().WithContext("snapshot"));
    Flush();
    return Status();
  }

  // One record of a snapshot fed in key order, newest per key
  // (AddSorted's, or StreamingFull's).
  void Add(EntityRecord&& r) {
    const uint16_t leaf = entities.leaf();
    if (r.level < leaf) {
      entities.Add(r, nullptr);
      // Held to the end: a packed one is copied out of its arena.
      if (r.packed()) {
        ancestors.push_back(r);
      } else {
        ancestors.push_back(std::move(r));
      }
      return;
    }
    if (!ancestors.empty()) {
      table = EntityTable::Build(std::move(ancestors));
      FreeBuffer(ancestors);
    }
    if (r.level > leaf) return;  // no such level in this schema (the parser never makes one)
    run.push_back(std::move(r));
    if (run.size() >= ctx.leaves_per_run) Flush();
  }
  // After the last Add: the leaves still held.
  void Flush() {
    AddLeaves(table, run);
    run.clear();
    // No record held views an arena but the newest (StreamingFull::Add).
    if (arenas.size() > 1) arenas.erase(arenas.begin(), arenas.end() - 1);
  }

  const GenerationContext& ctx;
  SegmentWriter& writer;
  EntitiesSegmentBuilder entities;
  uint32_t doc_number = 0;
  // Add's: the ancestors (until the first leaf), then their table, and the
  // run of leaves held.
  std::vector<EntityRecord> ancestors, run;
  EntityTable table;
  std::vector<DocBatch> spare_batches;  // AddLeaves': kept from one run to the next
  // The arenas the leaves in `run` are packed into, oldest first; the
  // newest may hold the next ones too.
  std::vector<std::unique_ptr<RecordArena>> arenas;
};

// The checks a snapshot passes before its full may be built: every object
// decoded, and the bad-record ratio.
Status CheckSnapshot(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot& snapshot) {
  // A full built without one of its snapshot's objects would silently
  // lose every ad in it until the next snapshot: never, whatever the
  // bad-record ratio says.
  for (const QuarantineEntry& e : snapshot.bad) {
    if (e.line == 0 && e.reason.starts_with(kReasonCorruptObject)) {
      return Status::FailedPrecondition("snapshot " + TimeOrEmpty(plan.snapshot_time) + ": object " + e.source +
                                        " cannot be decoded (" + e.reason +
                                        "); a full build would lose every record in it");
    }
  }
  return CheckBadRatio(snapshot.bad.size(), snapshot.records_total, ctx.max_bad_ratio)
      .WithContext("snapshot " + TimeOrEmpty(plan.snapshot_time));
}

// The full's generation, once `parts` has every record of `snapshot`.
Result<BuiltGeneration> FinishFull(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot& snapshot,
                                   SegmentWriter& writer, FullParts& parts) {
  Manifest m;
  m.kind = "full";
  m.snapshot = TimeOrEmpty(plan.snapshot_time);
  m.inputs = Inputs(plan.snapshot_objects);
  m.counts.records = snapshot.records_total;
  m.counts.bad_records = snapshot.bad.size();
  m.counts.input_bytes = snapshot.bytes;
  // The base's entities, for the deltas' fan-out (ingest/base_entities.h).
  FRESHET_ASSIGN_OR_RETURN(std::vector<SegmentFile> entities, parts.entities.Finish());
  return AssembleGeneration(ctx, plan.full_generation, std::move(m), writer,
                            snapshot.bad.empty() ? std::string() : QuarantineNdjson(snapshot.bad),
                            std::move(entities));
}

}  // namespace

struct StreamingFull::Impl {
  explicit Impl(const GenerationContext& c) : ctx(c), writer(SpooledWriterOptions(ctx)), parts(ctx, writer) {}
  const GenerationContext ctx;
  SegmentWriter writer;
  FullParts parts;
  EntityRecord last;  // held back until a record of another key comes
  bool has_last = false;
  bool out_of_order = false;
  bool finished = false;
  uint64_t records = 0, duplicates = 0;
};

StreamingFull::StreamingFull(const GenerationContext& ctx) : impl_(std::make_unique<Impl>(ctx)) {}
StreamingFull::~StreamingFull() = default;

Status StreamingFull::Add(std::vector<EntityRecord>* records, std::unique_ptr<RecordArena> arena) {
  Impl& m = *impl_;
  if (m.out_of_order) return Status::FailedPrecondition("the snapshot's records are not in key order");
  if (m.finished) return Status::Internal("a record added to a finished full");
  if (arena != nullptr) m.parts.arenas.push_back(std::move(arena));
  for (EntityRecord& r : *records) {
    ++m.records;
    if (m.has_last) {
      const int k = CompareKeys(m.last, r);
      if (k > 0) {
        m.out_of_order = true;
        Status st = Status::FailedPrecondition("the snapshot's records are not in key order: " + r.id + " (" +
                                               r.source + " line " + std::to_string(r.line) + ") comes after " +
                                               m.last.id + " (" + m.last.source + ")");
        FreeBuffer(*records);
        return st;
      }
      if (k == 0) {  // two versions of one entity: the newer stays (as SortNewestPerKey keeps it)
        ++m.duplicates;
        if (Supersedes(r, m.last)) m.last = std::move(r);
        continue;
      }
      m.parts.Add(std::move(m.last));
    }
    m.last = std::move(r);
    m.has_last = true;
  }
  // The record held back outlives its arena, which goes with the run it
  // ends up in.
  if (m.has_last && m.last.packed()) m.last = EntityRecord(m.last);
  FreeBuffer(*records);
  return Status();
}

bool StreamingFull::out_of_order() const { return impl_->out_of_order; }
uint64_t StreamingFull::duplicates() const { return impl_->duplicates; }

Result<BuiltGeneration> StreamingFull::Finish(const BuildPlan& plan, const ParsedSnapshot& snapshot) {
  Impl& m = *impl_;
  if (m.out_of_order) return Status::Internal("a full whose snapshot was not in key order");
  if (m.finished) return Status::Internal("a streamed snapshot read by a second build");
  m.finished = true;
  if (m.has_last) {
    m.parts.Add(std::move(m.last));
    m.has_last = false;
  }
  m.parts.Flush();
  return FinishFull(m.ctx, plan, snapshot, m.writer, m.parts);
}

namespace {

// The new full of a kFullAndDelta plan, from its parsed snapshot.
Result<BuiltGeneration> BuildFull(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot* snapshot) {
  if (!snapshot) return Status::Internal("full batch without a parsed snapshot");
  FRESHET_RETURN_IF_ERROR(CheckSnapshot(ctx, plan, *snapshot));
  if (snapshot->streaming) return snapshot->streaming->Finish(plan, *snapshot);
  // Documents go straight into the writer as they are made, and entities
  // into theirs: only the writers' compact form of the whole set is ever
  // in memory (and, for a streamed snapshot, one run of leaves).
  SegmentWriter writer(SpooledWriterOptions(ctx));
  FullParts parts(ctx, writer);
  if (snapshot->sorted) {
    FRESHET_RETURN_IF_ERROR(parts.AddSorted(*snapshot->sorted));
  } else {
    parts.AddTable(snapshot->table);
  }
  return FinishFull(ctx, plan, *snapshot, writer, parts);
}

// The entities of the full `full` (just built, not yet committed), read
// from its files in memory: the base of its batch's delta when the
// snapshot was streamed. `full` must outlive the result.
Result<std::unique_ptr<BaseEntities>> NewFullEntities(const GenerationContext& ctx, const BuiltGeneration& full) {
  SegmentReader::FileOpener open = [&full](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
    for (const SegmentFile& f : full.files) {
      if (f.name == name) return f.spool ? SpoolSource(f.spool) : StringViewSource(f.bytes);
    }
    return Status::Internal("the new full " + full.id + " has no file " + name);
  };
  return BaseEntities::Open(open, *ctx.schema, kNewFullEntitiesCache);
}

// A delta's manifest fields that come from the plan alone.
Manifest DeltaManifest(const BuildPlan& plan) {
  Manifest m;
  m.kind = "delta";
  m.base = plan.full_generation;
  m.snapshot = TimeOrEmpty(plan.snapshot_time);
  m.window_start = FormatRfc3339(plan.window_start);
  m.window_end = FormatRfc3339(plan.window_end);
  m.target = TimeOrEmpty(plan.target);
  // The watermark this delta establishes: the newer of target and the
  // previous watermark (a full batch with nothing new keeps the old one).
  std::optional<TimePoint> wm = plan.target;
  if (plan.previous_watermark && (!wm || *plan.previous_watermark > *wm)) wm = plan.previous_watermark;
  m.watermark = TimeOrEmpty(wm);
  for (TimePoint t : plan.skipped) m.skipped.push_back(FormatRfc3339(t));
  m.base_inputs = Inputs(plan.snapshot_objects);
  m.warnings = plan.warnings;
  return m;
}

// What every batch starts with: the counts of the input it read (`read`)
// and, for a full batch, the full generation built from `snapshot`.
Result<BuiltBatch> StartBatch(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot* snapshot,
                              const DecodedInput& read) {
  BuiltBatch out;
  out.objects = read.objects;
  out.bytes = read.bytes;
  out.records = read.records_total;
  out.bad_records = read.bad.size();
  out.warnings = plan.warnings;
  if (plan.kind == BatchKind::kFullAndDelta) {
    FRESHET_ASSIGN_OR_RETURN(BuiltGeneration full, BuildFull(ctx, plan, snapshot));
    out.full = std::move(full);
    out.records += snapshot->records_total;
    out.bad_records += snapshot->bad.size();
  }
  return out;
}

// BuildGenerations with the window's table built: `window` supplies the
// counts and quarantine (its records are not read).
Result<BuiltBatch> Build(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot* snapshot,
                         const DecodedInput& window, EntityTable window_table) {
  static const EntityTable kEmpty;
  const EntityTable& base = snapshot ? snapshot->table : kEmpty;
  FRESHET_ASSIGN_OR_RETURN(BuiltBatch out, StartBatch(ctx, plan, snapshot, window));

  FRESHET_RETURN_IF_ERROR(CheckBadRatio(window, ctx.max_bad_ratio).WithContext("window ending " +
                                                                                TimeOrEmpty(plan.target)));
  SegmentWriter writer(WriterOptions(ctx));
  auto add = [&writer](const DocBatch& b) { writer.Add(b); };
  if (out.full && snapshot->streamed()) {
    // A streamed snapshot is gone: its full's entities stand in.
    FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<BaseEntities> new_full, NewFullEntities(ctx, *out.full));
    StreamDeltaDocs(*ctx.schema, *new_full, window_table, DocParallelism{ctx.pool, ctx.threads}, add);
    FRESHET_RETURN_IF_ERROR(new_full->status());
  } else {
    StreamDeltaDocs(*ctx.schema, base, window_table, DocParallelism{ctx.pool, ctx.threads}, add);
  }
  Manifest m = DeltaManifest(plan);
  m.inputs = Inputs(plan.window_objects);
  m.counts.records = window.records_total;
  m.counts.bad_records = window.bad.size();
  m.counts.input_bytes = window.bytes;
  FRESHET_ASSIGN_OR_RETURN(out.delta,
                           Assemble(ctx, plan.delta_generation, std::move(m), writer, window.bad));
  out.delta.starts_chain = true;
  return out;
}

// BuildChainBatch with a pool in `ctx` when it wants threads.
Result<BuiltBatch> ChainBatch(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot* snapshot,
                              const BaseEntities* entities, IngestedWindow& window, const WindowDiff& change,
                              const DecodedInput& fetched, bool starts_chain) {
  static const EntityTable kEmpty;
  const EntityTable& base = snapshot ? snapshot->table : kEmpty;
  // A delta on the live full joins against the full's entities when the
  // caller has them; a full batch against the snapshot it just parsed.
  const BaseEntities* from_full = plan.kind == BatchKind::kDelta ? entities : nullptr;
  FRESHET_ASSIGN_OR_RETURN(BuiltBatch out, StartBatch(ctx, plan, snapshot, fetched));
  std::unique_ptr<BaseEntities> new_full;  // a streamed snapshot is gone: its full's entities stand in
  if (out.full && snapshot != nullptr && snapshot->streamed()) {
    FRESHET_ASSIGN_OR_RETURN(new_full, NewFullEntities(ctx, *out.full));
    from_full = new_full.get();
  }
  if (out.full) starts_chain = true;  // a new base: the chain starts over
  FRESHET_RETURN_IF_ERROR(CheckBadRatio(window.Summary(), ctx.max_bad_ratio).WithContext("window ending " +
                                                                                        TimeOrEmpty(plan.target)));
  if (!starts_chain && plan.chain.empty()) return Status::Internal("a segment that extends no chain");

  SegmentWriter writer(WriterOptions(ctx));
  const DocParallelism par{ctx.pool, ctx.threads};
  std::vector<TouchedEntity> touched = window.state().TakeTouched();
  Manifest m = DeltaManifest(plan);
  std::vector<QuarantineEntry> bad;
  if (starts_chain) {
    // The whole window's delta over the base, as a from-scratch build
    // makes it (byte for byte: the same table, the same assembler).
    std::vector<EntityRecord> winners;
    winners.reserve(window.state().entities());
    window.state().ForEachWinner([&winners](const EntityRecord& r) { winners.push_back(r); });
    EntityTable table = EntityTable::Build(std::move(winners));
    if (from_full) StreamDeltaDocs(*ctx.schema, *from_full, table, par, [&writer](const DocBatch& b) { writer.Add(b); });
    else StreamDeltaDocs(*ctx.schema, base, table, par, [&writer](const DocBatch& b) { writer.Add(b); });
    m.inputs = Inputs(window.Objects());
    bad = window.Quarantine();
    m.counts.records = window.records_total();
    m.counts.input_bytes = window.bytes();
  } else {
    auto add = [&writer](const DocBatch& b) { writer.Add(b); };
    if (from_full) StreamTouchedDocs(*ctx.schema, *from_full, window.state(), touched, par, add);
    else StreamTouchedDocs(*ctx.schema, base, window.state(), touched, par, add);
    m.predecessor = plan.chain.back();
    m.inputs = Inputs(change.fetch);
    m.removed = Inputs(change.removed);
    bad = fetched.bad;
    m.counts.records = fetched.records_total;
    m.counts.input_bytes = fetched.bytes;
  }
  m.counts.bad_records = bad.size();
  if (from_full) FRESHET_RETURN_IF_ERROR(from_full->status());  // a lookup failed: the segment would be incomplete
  FRESHET_ASSIGN_OR_RETURN(out.delta, Assemble(ctx, plan.delta_generation, std::move(m), writer, bad));
  out.delta.starts_chain = starts_chain;
  return out;
}

// Without a pool but with threads to use, a pool for this call only.
Result<BuiltBatch> BuildWithPool(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot* snapshot,
                                 const DecodedInput& window, EntityTable window_table) {
  if (ctx.pool != nullptr || ctx.threads <= 1) return Build(ctx, plan, snapshot, window, std::move(window_table));
  ThreadPool own("build", ctx.threads - 1, 4 * ctx.threads);
  GenerationContext with_pool = ctx;
  with_pool.pool = &own;
  return Build(with_pool, plan, snapshot, window, std::move(window_table));
}

}  // namespace

Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, const DecodedInput& window) {
  return BuildWithPool(ctx, plan, snapshot, window, EntityTable::Build(window.records));  // copies the records
}

Result<BuiltBatch> BuildChainBatch(const GenerationContext& ctx, const BuildPlan& plan,
                                   const ParsedSnapshot* snapshot, IngestedWindow& window, const WindowDiff& change,
                                   const DecodedInput& fetched, bool starts_chain, const BaseEntities* entities) {
  if (ctx.pool != nullptr || ctx.threads <= 1) {
    return ChainBatch(ctx, plan, snapshot, entities, window, change, fetched, starts_chain);
  }
  ThreadPool own("build", ctx.threads - 1, 4 * ctx.threads);
  GenerationContext with_pool = ctx;
  with_pool.pool = &own;
  return ChainBatch(with_pool, plan, snapshot, entities, window, change, fetched, starts_chain);
}

Result<BuiltBatch> BuildGenerations(const GenerationContext& ctx, const BuildPlan& plan,
                                    const ParsedSnapshot* snapshot, DecodedInput&& window) {
  EntityTable window_table = EntityTable::Build(std::move(window.records));
  return BuildWithPool(ctx, plan, snapshot, window, std::move(window_table));
}

}  // namespace freshet
