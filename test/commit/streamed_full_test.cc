// A full batch from a snapshot streamed through the external sort
// (ingest/record_runs.h), or straight into the full's writers when its
// records come in key order (StreamingFull), writes the very bytes of one
// from the snapshot held whole: the full, its entities and the batch's
// delta (joined against the new full's entities instead of the parsed
// snapshot), whatever the memory limit (how many runs spill) and the
// number of threads.
#include <gtest/gtest.h>

#include <filesystem>

#include "commit/generation_builder.h"
#include "config/schema_hash.h"
#include "gen/generator.h"
#include "ingest/batch_input.h"
#include "ingest/ingested_window.h"
#include "ingest/record_runs.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

// Packs *records into a new arena, as the parser does for a streamed
// full's pieces (FetchParse::pack_records).
std::unique_ptr<RecordArena> PackIntoArena(std::vector<EntityRecord>* records) {
  auto arena = std::make_unique<RecordArena>();
  for (EntityRecord& r : *records) {
    uint64_t present = 0;
    size_t values = 0;
    for (size_t f = 0; f < r.field_limit() && f < 64; ++f) {
      if (!r.has_field(f)) continue;
      present |= uint64_t{1} << f;
      values += r.field(f).size();
    }
    char* entry = arena->Allocate(EntityRecord::PackedPrefix(present) + values);
    r.Pack(entry, EntityRecord::WriteEntry(entry, present, [&r](size_t f) { return r.field(f); }));
  }
  return arena;
}

struct Case {
  bool flat = false;
  const char* name = "";
};

class StreamedFullTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    gen_.seed = 5;
    gen_.campaigns = 5;
    gen_.ad_groups_per_campaign = 4;
    gen_.ads_per_ad_group = 30;
    gen_.partitions = 3;
    gen_.updates_per_partition = 60;
    gen_.objects_per_partition = 2;
    ASSERT_TRUE(Generate(gen_, source_).ok());
    schema_ = GetParam().flat ? DefaultFlatSchema() : DefaultAdsSchema();
    salt_ = SchemaHash(schema_) + ":index-v1";
    auto snapshot = ListAllSync(source_, gen_.snapshots_prefix);
    auto updates = ListAllSync(source_, gen_.updates_prefix);
    ASSERT_TRUE(snapshot.ok() && updates.ok());
    snapshot_objects_ = *snapshot;
    for (const ObjectInfo& o : *updates) {
      if (o.size > 0 && o.key.find("/_") == std::string::npos) window_objects_.push_back(o);
    }
    ASSERT_FALSE(window_objects_.empty());
  }

  DecodedInput Decode(const std::vector<ObjectInfo>& objects) {
    std::vector<std::pair<ObjectInfo, std::string>> fetched;
    for (const auto& o : objects) fetched.emplace_back(o, GetSync(source_, o.key)->body);
    return DecodeAndParse(schema_, fetched);
  }

  BuildPlan FullPlan() {
    BuildPlan p;
    p.batch_id = 1;
    p.kind = BatchKind::kFullAndDelta;
    p.full_reason = "no base";
    p.snapshot_time = gen_.start;
    p.snapshot_objects = snapshot_objects_;
    p.full_generation = FullGenerationId(salt_, gen_.start, p.snapshot_objects);
    p.target = gen_.start + gen_.interval * 2;
    p.window_start = gen_.start;
    p.window_end = gen_.start + gen_.interval * 3;
    p.window_objects = window_objects_;
    p.salt = salt_;
    p.delta_generation = DeltaGenerationId(p);
    return p;
  }

  // The snapshot streamed: its records added a few hundred at a time, with
  // `limit` bytes held before a run spills (0: none).
  ParsedSnapshot Streamed(const BuildPlan& plan, size_t limit, size_t* runs) {
    DecodedInput input = Decode(plan.snapshot_objects);
    RecordSorter sorter({limit, scratch_.Join("runs")});
    for (size_t i = 0; i < input.records.size(); i += 300) {
      std::vector<EntityRecord> chunk(
          std::make_move_iterator(input.records.begin() + static_cast<long>(i)),
          std::make_move_iterator(input.records.begin() + static_cast<long>(std::min(input.records.size(), i + 300))));
      EXPECT_TRUE(sorter.Add(&chunk).ok());
    }
    *runs = sorter.runs_written();
    auto sorted = sorter.Finish();
    EXPECT_TRUE(sorted.ok()) << sorted.status().ToString();
    ParsedSnapshot s;
    s.identity = plan.full_generation;
    s.sorted = std::move(sorted).value();
    s.bad = std::move(input.bad);
    s.objects = input.objects;
    s.bytes = input.bytes;
    s.records_total = input.records_total;
    return s;
  }

  // Every file and manifest of the batch, by key.
  static std::map<std::string, std::string> Bytes(const BuiltBatch& b) {
    std::map<std::string, std::string> out;
    std::vector<const BuiltGeneration*> gens = {&b.delta};
    if (b.full) gens.push_back(&*b.full);
    for (const BuiltGeneration* g : gens) {
      for (const SegmentFile& f : g->files) {
        Result<std::string> bytes = f.Contents();  // a spooled file read back
        EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
        out[GenerationFileKey(g->id, f.name)] = bytes.ok() ? *bytes : "";
      }
      out[GenerationFileKey(g->id, kManifestName)] = g->manifest_json;
    }
    return out;
  }

  // The daemon's way: the window's state, then one chain batch.
  BuiltBatch ChainBuild(const GenerationContext& ctx, const BuildPlan& plan, const ParsedSnapshot& snapshot) {
    IngestedWindow state;
    WindowDiff diff = state.Diff(plan.window_objects);
    DecodedInput fetched = Decode(diff.fetch);
    DecodedInput meta;
    meta.bad = fetched.bad;
    meta.AddCounts(fetched);
    state.Apply(diff, std::move(fetched));
    auto built = BuildChainBatch(ctx, plan, &snapshot, state, diff, meta, /*starts_chain=*/true);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    return built.ok() ? std::move(built).value() : BuiltBatch{};
  }

  GenOptions gen_;
  MemoryStore source_;
  SchemaOptions schema_;
  std::string salt_;
  std::vector<ObjectInfo> snapshot_objects_, window_objects_;
  testing::TempDir scratch_;
};

TEST_P(StreamedFullTest, SameBytesAsTheHeldSnapshotWhateverTheLimitAndThreads) {
  const BuildPlan plan = FullPlan();
  const ParsedSnapshot held = MakeParsedSnapshot(plan.full_generation, Decode(plan.snapshot_objects));
  ASSERT_GT(held.table.size(), 500u);
  GenerationContext ctx{&schema_, SchemaHash(schema_), /*max_bad_ratio=*/0.5};
  auto want = BuildGenerations(ctx, plan, &held, Decode(plan.window_objects));
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_TRUE(want->full);
  ASSERT_GT(want->full->docs, 250u);
  ASSERT_GT(want->delta.docs + want->delta.tombstones, 20u);
  const auto want_bytes = Bytes(*want);
  const auto want_chain = Bytes(ChainBuild(ctx, plan, held));

  for (size_t limit : {size_t{0}, size_t{20000}, size_t{1} << 30}) {
    for (size_t threads : {size_t{1}, size_t{3}}) {
      SCOPED_TRACE("limit " + std::to_string(limit) + ", threads " + std::to_string(threads));
      GenerationContext c = ctx;
      c.threads = threads;
      c.leaves_per_run = threads == 1 ? 37 : 1000;  // many runs of leaves, or one
      if (limit != 0) {
        c.spool_dir = scratch_.Join("spool");  // the full's "stored" on disk
        c.index_memory_bytes = threads == 1 ? 3000 : 0;  // and, on one thread, many postings runs
      }
      size_t runs = 0;
      ParsedSnapshot streamed = Streamed(plan, limit, &runs);
      if (limit == 20000) {
        EXPECT_GT(runs, 5u);
      }
      auto got = BuildGenerations(c, plan, &streamed, Decode(plan.window_objects));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      for (const SegmentFile& f : got->full->files) {
        // Every file of its two segments (the quarantine is not one).
        const bool segment_file = f.name != kQuarantineName;
        EXPECT_EQ(f.spool != nullptr, limit != 0 && segment_file) << f.name;
      }
      EXPECT_TRUE(Bytes(*got) == want_bytes);
      EXPECT_EQ(got->records, want->records);
      ParsedSnapshot again = Streamed(plan, limit, &runs);
      EXPECT_TRUE(Bytes(ChainBuild(c, plan, again)) == want_chain);
    }
  }
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.Join("runs"))) << "every run is removed once read";
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.Join("spool"))) << "every spool goes with its batch";

  // A stream is read once: a second build from it fails rather than
  // writing an empty full.
  size_t runs = 0;
  ParsedSnapshot once = Streamed(plan, 0, &runs);
  ASSERT_TRUE(BuildGenerations(ctx, plan, &once, Decode(plan.window_objects)).ok());
  auto twice = BuildGenerations(ctx, plan, &once, Decode(plan.window_objects));
  EXPECT_EQ(twice.status().code(), StatusCode::kInternal) << twice.status().ToString();
}

// A snapshot whose records arrive in key order goes straight into the
// full's writers: the same bytes again, older versions of an entity
// dropped wherever they sit among its copies, whether the records own
// their fields or come packed into an arena per part (which the full
// frees as it writes them: ASan would see a record outlive its arena).
TEST_P(StreamedFullTest, InKeyOrderTheStreamingFullWritesTheSameBytes) {
  const BuildPlan plan = FullPlan();
  const ParsedSnapshot held = MakeParsedSnapshot(plan.full_generation, Decode(plan.snapshot_objects));
  GenerationContext ctx{&schema_, SchemaHash(schema_), /*max_bad_ratio=*/0.5};
  auto want = BuildGenerations(ctx, plan, &held, Decode(plan.window_objects));
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  const auto want_bytes = Bytes(*want);
  const auto want_chain = Bytes(ChainBuild(ctx, plan, held));

  // The records in key order, with older copies of every 7th entity
  // before and after it (the newest must win, as the sort keeps it).
  DecodedInput input = Decode(plan.snapshot_objects);
  std::vector<EntityRecord> ordered = input.records;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const EntityRecord& a, const EntityRecord& b) { return CompareKeys(a, b) < 0; });
  std::vector<EntityRecord> with_copies;
  for (size_t i = 0; i < ordered.size(); ++i) {
    EntityRecord older = ordered[i];
    older.version -= 1;
    older.SetJson(R"({"stale":true})");
    older.fields.clear();
    if (i % 7 == 0) with_copies.push_back(older);
    with_copies.push_back(ordered[i]);
    if (i % 7 == 0 || i % 11 == 0) with_copies.push_back(older);
  }

  for (const auto& [threads, packed] : {std::pair{size_t{1}, false}, std::pair{size_t{3}, false},
                                        std::pair{size_t{1}, true}, std::pair{size_t{3}, true}}) {
    SCOPED_TRACE("threads " + std::to_string(threads) + (packed ? ", packed" : ""));
    GenerationContext c = ctx;
    c.threads = threads;
    c.leaves_per_run = threads == 1 ? 37 : 1000;
    c.spool_dir = scratch_.Join("spool");
    auto make = [&, packed = packed] {
      ParsedSnapshot s;
      s.identity = plan.full_generation;
      s.streaming = std::make_shared<StreamingFull>(c);
      for (size_t i = 0; i < with_copies.size(); i += 300) {
        std::vector<EntityRecord> chunk(with_copies.begin() + static_cast<long>(i),
                                        with_copies.begin() + static_cast<long>(std::min(with_copies.size(), i + 300)));
        std::unique_ptr<RecordArena> arena = packed ? PackIntoArena(&chunk) : nullptr;
        EXPECT_TRUE(s.streaming->Add(&chunk, std::move(arena)).ok());
        EXPECT_TRUE(chunk.empty());
      }
      EXPECT_FALSE(s.streaming->out_of_order());
      EXPECT_EQ(s.streaming->duplicates(), with_copies.size() - ordered.size());
      s.bad = input.bad;
      s.objects = input.objects;
      s.bytes = input.bytes;
      s.records_total = input.records_total;
      return s;
    };
    ParsedSnapshot streamed = make();
    auto got = BuildGenerations(c, plan, &streamed, Decode(plan.window_objects));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(Bytes(*got) == want_bytes);
    EXPECT_EQ(got->records, want->records);
    // Read once: a second build fails rather than writing an empty full.
    auto twice = BuildGenerations(c, plan, &streamed, Decode(plan.window_objects));
    EXPECT_EQ(twice.status().code(), StatusCode::kInternal) << twice.status().ToString();
    ParsedSnapshot again = make();
    EXPECT_TRUE(Bytes(ChainBuild(c, plan, again)) == want_chain);
  }
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.Join("spool"))) << "every spool goes with its batch";
}

// The first record out of key order stops the streaming full, naming it;
// nothing can be built from what it took.
TEST_P(StreamedFullTest, ARecordOutOfKeyOrderStopsTheStreamingFull) {
  const BuildPlan plan = FullPlan();
  DecodedInput input = Decode(plan.snapshot_objects);
  std::vector<EntityRecord> ordered = input.records;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const EntityRecord& a, const EntityRecord& b) { return CompareKeys(a, b) < 0; });
  ASSERT_GT(ordered.size(), 100u);
  std::swap(ordered[60], ordered[61]);
  GenerationContext ctx{&schema_, SchemaHash(schema_), /*max_bad_ratio=*/0.5};
  ParsedSnapshot s;
  s.identity = plan.full_generation;
  s.streaming = std::make_shared<StreamingFull>(ctx);
  std::vector<EntityRecord> first(ordered.begin(), ordered.begin() + 50);
  ASSERT_TRUE(s.streaming->Add(&first).ok());
  std::vector<EntityRecord> rest(ordered.begin() + 50, ordered.end());
  Status st = s.streaming->Add(&rest);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("not in key order: " + ordered[61].id), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("comes after " + ordered[60].id), std::string::npos) << st.ToString();
  EXPECT_TRUE(s.streaming->out_of_order());
  std::vector<EntityRecord> more(ordered.end() - 1, ordered.end());
  EXPECT_EQ(s.streaming->Add(&more).code(), StatusCode::kFailedPrecondition);
  auto built = BuildGenerations(ctx, plan, &s, Decode(plan.window_objects));
  EXPECT_EQ(built.status().code(), StatusCode::kInternal) << built.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Schemas, StreamedFullTest,
                         ::testing::Values(Case{false, "ads"}, Case{true, "flat"}),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace freshet
