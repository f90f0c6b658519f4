// Merging chain segments: a whole add-only chain merges into the very bytes
// of the from-scratch delta; merges compose (merging a merged run with the
// rest equals merging everything at once); the merged manifest folds to the
// same window.
#include "commit/segment_merge.h"

#include <gtest/gtest.h>

#include "commit/segment_chain.h"
#include "config/schema_hash.h"
#include "gen/generator.h"
#include "ingest/ingested_window.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

class SegmentMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gen_.seed = 7;
    gen_.campaigns = 6;
    gen_.ad_groups_per_campaign = 3;
    gen_.ads_per_ad_group = 5;
    gen_.partitions = 6;
    gen_.updates_per_partition = 40;
    gen_.objects_per_partition = 2;
    ASSERT_TRUE(Generate(gen_, source_).ok());
    options_.schema = DefaultAdsSchema();
    ctx_ = GenerationContext{&options_.schema, SchemaHash(options_.schema), 1.0};
    auto snap = ListAllSync(source_, gen_.snapshots_prefix);
    ASSERT_TRUE(snap.ok());
    snapshot_objects_ = *snap;
    snapshot_ = MakeParsedSnapshot("snap", Decode(snapshot_objects_));
    auto updates = ListAllSync(source_, gen_.updates_prefix);
    ASSERT_TRUE(updates.ok());
    updates_ = *updates;  // ascending by key: by partition
  }

  DecodedInput Decode(const std::vector<ObjectInfo>& objects) {
    std::vector<std::pair<ObjectInfo, std::string>> fetched;
    for (const auto& o : objects) fetched.emplace_back(o, GetSync(source_, o.key)->body);
    return DecodeAndParse(options_.schema, fetched);
  }

  BuildPlan PlanFor(size_t objects, const std::vector<std::string>& chain) {
    BuildPlan p;
    p.kind = BatchKind::kDelta;
    p.full_generation = "full/20251124T160000Z-0000000000000001";
    p.snapshot_time = gen_.start;
    p.snapshot_objects = snapshot_objects_;
    p.window_start = gen_.start;
    p.window_end = gen_.start + gen_.interval * gen_.partitions;
    p.target = gen_.start + gen_.interval * (gen_.partitions - 1);
    p.window_objects.assign(updates_.begin(), updates_.begin() + static_cast<ptrdiff_t>(objects));
    p.chain = chain;
    p.delta_generation = "delta/20251124T16" + std::to_string(10 + objects) + "00Z-00000000000000" +
                         std::to_string(10 + objects);
    return p;
  }

  // One segment per batch, each batch adding `step` more objects.
  std::vector<SegmentBytes> Chain(size_t step) {
    IngestedWindow w;
    std::vector<SegmentBytes> out;
    std::vector<std::string> ids;
    for (size_t n = step; ; n = std::min(n + step, updates_.size())) {
      BuildPlan plan = PlanFor(n, ids);
      WindowDiff diff = w.Diff(plan.window_objects);
      DecodedInput fetched = Decode(diff.fetch);
      DecodedInput meta;
      meta.bad = fetched.bad;
      meta.records_total = fetched.records_total;
      w.Apply(diff, std::move(fetched));
      auto built = BuildChainBatch(ctx_, plan, &snapshot_, w, diff, meta, ids.empty());
      EXPECT_TRUE(built.ok()) << built.status().ToString();
      out.push_back(Bytes(built->delta));
      ids.push_back(built->delta.id);
      if (n == updates_.size()) break;
    }
    return out;
  }

  static SegmentBytes Bytes(const BuiltGeneration& g) {
    SegmentBytes s;
    auto m = ParseManifest(g.manifest_json);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    s.manifest = *m;
    for (const auto& f : g.files) s.files[f.name] = f.bytes;
    return s;
  }

  GenOptions gen_;
  MemoryStore source_;
  Options options_;
  GenerationContext ctx_;
  std::vector<ObjectInfo> snapshot_objects_, updates_;
  ParsedSnapshot snapshot_;
};

TEST_F(SegmentMergeTest, AWholeAddOnlyChainMergesIntoTheFromScratchBytes) {
  std::vector<SegmentBytes> chain = Chain(2);
  ASSERT_GE(chain.size(), 5u);
  auto merged = MergeSegments(ctx_, chain, {});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();

  BuildPlan all = PlanFor(updates_.size(), {});
  auto scratch = BuildGenerations(ctx_, all, &snapshot_, Decode(all.window_objects));
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  ASSERT_EQ(merged->files.size(), scratch->delta.files.size());
  for (size_t i = 0; i < merged->files.size(); ++i) {
    EXPECT_EQ(merged->files[i].name, scratch->delta.files[i].name);
    if (merged->files[i].name == "quarantine.ndjson") continue;  // the same lines, in batch order
    EXPECT_TRUE(merged->files[i].bytes == scratch->delta.files[i].bytes) << merged->files[i].name;
  }
  EXPECT_EQ(merged->docs, scratch->delta.docs);
  EXPECT_EQ(merged->tombstones, scratch->delta.tombstones);

  auto m = ParseManifest(merged->manifest_json);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->predecessor, "");
  EXPECT_EQ(m->merged.size(), chain.size());
  EXPECT_EQ(m->inputs.size(), updates_.size()) << "a chain start lists its whole window";
  EXPECT_EQ(m->watermark, chain.back().manifest.watermark);
}

TEST_F(SegmentMergeTest, MergesComposeAndFoldToTheSameWindow) {
  std::vector<SegmentBytes> chain = Chain(1);
  ASSERT_GE(chain.size(), 6u);
  auto whole = MergeSegments(ctx_, chain, {});
  ASSERT_TRUE(whole.ok());

  // Merge a middle run, then everything: the same documents, the same files.
  std::vector<Manifest> manifests;
  for (const auto& s : chain) manifests.push_back(s.manifest);
  std::vector<Manifest> before_run(manifests.begin(), manifests.begin() + 2);
  auto window_before = ChainWindow(before_run, before_run.front().base);
  ASSERT_TRUE(window_before.ok()) << window_before.status().ToString();
  std::vector<SegmentBytes> run(chain.begin() + 2, chain.begin() + 5);
  auto middle = MergeSegments(ctx_, run, *window_before);
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  SegmentBytes mid = Bytes(*middle);
  EXPECT_EQ(mid.manifest.predecessor, chain[1].manifest.generation);
  EXPECT_EQ(mid.manifest.merged.size(), 3u);

  std::vector<SegmentBytes> shorter(chain.begin(), chain.begin() + 2);
  shorter.push_back(mid);
  shorter.insert(shorter.end(), chain.begin() + 5, chain.end());
  std::vector<Manifest> shorter_manifests;
  for (const auto& s : shorter) shorter_manifests.push_back(s.manifest);
  // The chain with the merged run still links and folds to the same window.
  auto folded = ChainWindow(shorter_manifests, chain.front().manifest.base);
  ASSERT_TRUE(folded.ok()) << folded.status().ToString();
  EXPECT_EQ(*folded, *ChainWindow(manifests, chain.front().manifest.base));

  auto again = MergeSegments(ctx_, shorter, {});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->files.size(), whole->files.size());
  for (size_t i = 0; i < again->files.size(); ++i) {
    EXPECT_TRUE(again->files[i].bytes == whole->files[i].bytes) << again->files[i].name;
  }
}

TEST_F(SegmentMergeTest, DamagedMemberBytesAreDataLoss) {
  std::vector<SegmentBytes> chain = Chain(3);
  ASSERT_GE(chain.size(), 2u);
  chain[1].files.begin()->second.back() ^= 1;
  auto merged = MergeSegments(ctx_, chain, {});
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(merged.status().message().find(chain[1].manifest.generation), std::string::npos);
}

TEST(MergedSegmentIdTest, KeepsTheNewestStampAndDependsOnEveryMember) {
  std::string a = MergedSegmentId({"delta/20251124T161000Z-aa", "delta/20251124T161500Z-bb"});
  EXPECT_EQ(a.rfind("delta/20251124T161500Z-m", 0), 0u) << a;
  EXPECT_NE(a, MergedSegmentId({"delta/20251124T160500Z-cc", "delta/20251124T161500Z-bb"}));
  EXPECT_EQ(a, MergedSegmentId({"delta/20251124T161000Z-aa", "delta/20251124T161500Z-bb"}));
}

}  // namespace
}  // namespace freshet
