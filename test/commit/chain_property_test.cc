// The chain property over random histories (SPEC §3, issue "Freshness at
// scale"): partitions arrive in random batch sizes, the window's oldest
// partitions leave it now and then, the builder's state is thrown away
// (a restart) and rebuilt from the chain's manifests, and runs of segments
// merge as the policy says. After every commit, what a reader sees through
// full + chain (newest segment first) equals what it sees through full +
// the from-scratch delta over the same window, document for document; a
// history that only added objects merges into the from-scratch bytes.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "commit/generation_builder.h"
#include "commit/segment_chain.h"
#include "commit/segment_merge.h"
#include "config/schema_hash.h"
#include "gen/generator.h"
#include "ingest/doc_assembler.h"
#include "ingest/ingested_window.h"
#include "plan/merge_policy.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

// What a reader sees for one id: its stored JSON, or "" when absent.
using View = std::map<std::string, std::string>;

class ChainPropertyTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    gen_.seed = static_cast<uint64_t>(GetParam());
    gen_.campaigns = 4;
    gen_.ad_groups_per_campaign = 3;
    gen_.ads_per_ad_group = 4;
    gen_.partitions = 14;
    gen_.updates_per_partition = 12;
    gen_.objects_per_partition = 2;
    ASSERT_TRUE(Generate(gen_, source_).ok());
    options_.schema = DefaultAdsSchema();
    ctx_ = GenerationContext{&options_.schema, SchemaHash(options_.schema), 1.0};
    auto snap = ListAllSync(source_, gen_.snapshots_prefix);
    ASSERT_TRUE(snap.ok());
    snapshot_objects_ = *snap;
    snapshot_ = MakeParsedSnapshot("snap", Decode(snapshot_objects_));
    for (const IndexDoc& d : BuildFullDocs(options_.schema, snapshot_.table)) {
      if (!d.tombstone) base_[d.id] = d.stored;
    }
    auto updates = ListAllSync(source_, gen_.updates_prefix);
    ASSERT_TRUE(updates.ok());
    for (const ObjectInfo& o : *updates) {
      if (o.size > 0 && o.key.find("/_") == std::string::npos) by_partition_[o.key.substr(0, o.key.rfind('/'))].push_back(o);
    }
  }

  DecodedInput Decode(const std::vector<ObjectInfo>& objects) {
    std::vector<std::pair<ObjectInfo, std::string>> fetched;
    for (const auto& o : objects) fetched.emplace_back(o, GetSync(source_, o.key)->body);
    return DecodeAndParse(options_.schema, fetched);
  }

  BuildPlan Plan(const std::vector<ObjectInfo>& window, int batch) const {
    BuildPlan p;
    p.kind = BatchKind::kDelta;
    p.full_generation = "full/20251124T160000Z-0000000000000001";
    p.snapshot_time = gen_.start;
    p.snapshot_objects = snapshot_objects_;
    p.window_start = gen_.start;
    p.window_end = gen_.start + gen_.interval * gen_.partitions;
    p.target = gen_.start + gen_.interval * batch;
    p.window_objects = window;
    for (const SegmentBytes& s : chain_) p.chain.push_back(s.manifest.generation);
    char id[64];
    std::snprintf(id, sizeof id, "delta/20251124T16%02dZ-%016d", batch % 60, batch);
    p.delta_generation = id;
    return p;
  }

  static SegmentBytes Bytes(const BuiltGeneration& g) {
    SegmentBytes s;
    s.manifest = *ParseManifest(g.manifest_json);
    for (const auto& f : g.files) s.files[f.name] = f.bytes;
    return s;
  }

  // Reader semantics over base + layers (oldest first).
  View Overlay(const std::vector<SegmentBytes>& layers) const {
    View v = base_;
    for (const SegmentBytes& s : layers) {
      std::map<std::string, IndexDoc> docs;
      EXPECT_TRUE(ReadSegmentDocs(s, &docs).ok());
      for (auto& [id, d] : docs) {
        if (d.tombstone) v.erase(id);
        else v[id] = d.stored;
      }
    }
    return v;
  }

  GenOptions gen_;
  MemoryStore source_;
  Options options_;
  GenerationContext ctx_;
  std::vector<ObjectInfo> snapshot_objects_;
  ParsedSnapshot snapshot_;
  View base_;
  std::map<std::string, std::vector<ObjectInfo>> by_partition_;  // ascending: partition folders by time
  std::vector<SegmentBytes> chain_;
};

TEST_P(ChainPropertyTest, TheChainShowsWhatAFromScratchDeltaShows) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  std::vector<std::string> folders;
  for (const auto& [folder, objs] : by_partition_) folders.push_back(folder);
  size_t first = 0, next = 0;  // the window is folders [first, next)
  bool only_added = true;
  IngestedWindow state;
  MergePolicyOptions policy;
  policy.floor_bytes = 1;  // small segments: let sizes matter
  policy.merge_factor = 3;
  policy.max_segments = 5;
  int batch = 0;
  while (next < folders.size()) {
    ++batch;
    next = std::min(folders.size(), next + 1 + rng() % 3);
    if (rng() % 5 == 0 && next - first > 3) {  // the window slides past its oldest partition
      ++first;
      only_added = false;
    }
    if (rng() % 4 == 0) state.Clear();  // a restart: the state is rebuilt from the chain
    std::vector<ObjectInfo> window;
    for (size_t f = first; f < next; ++f) {
      const auto& objs = by_partition_[folders[f]];
      window.insert(window.end(), objs.begin(), objs.end());
    }
    BuildPlan plan = Plan(window, batch);
    bool starts_chain = chain_.empty();
    if (!starts_chain && state.head != plan.chain.back()) {
      std::vector<Manifest> manifests;
      for (const SegmentBytes& s : chain_) manifests.push_back(s.manifest);
      auto held = ChainWindow(manifests, plan.full_generation);
      ASSERT_TRUE(held.ok()) << held.status().ToString();
      state.Clear();
      WindowDiff all;
      all.fetch = *held;
      state.Apply(all, Decode(*held));
      (void)state.state().TakeTouched();
    }
    WindowDiff diff = state.Diff(window);
    DecodedInput fetched = Decode(diff.fetch);
    DecodedInput meta;
    meta.bad = fetched.bad;
    meta.records_total = fetched.records_total;
    state.Apply(diff, std::move(fetched));
    auto built = BuildChainBatch(ctx_, plan, &snapshot_, state, diff, meta, starts_chain);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    state.head = built->delta.id;
    chain_.push_back(Bytes(built->delta));

    // Merge as the policy says (the newest segment stays).
    std::vector<uint64_t> sizes;
    for (size_t i = 0; i + 1 < chain_.size(); ++i) sizes.push_back(chain_[i].manifest.counts.output_bytes);
    if (auto choice = ChooseMerge(sizes, policy)) {
      std::vector<Manifest> before;
      for (size_t i = 0; i < choice->begin; ++i) before.push_back(chain_[i].manifest);
      auto window_before = ChainWindow(before, plan.full_generation);
      ASSERT_TRUE(window_before.ok());
      std::vector<SegmentBytes> run(chain_.begin() + static_cast<ptrdiff_t>(choice->begin),
                                    chain_.begin() + static_cast<ptrdiff_t>(choice->end));
      auto merged = MergeSegments(ctx_, run, *window_before);
      ASSERT_TRUE(merged.ok()) << merged.status().ToString();
      chain_.erase(chain_.begin() + static_cast<ptrdiff_t>(choice->begin) + 1,
                   chain_.begin() + static_cast<ptrdiff_t>(choice->end));
      chain_[choice->begin] = Bytes(*merged);
    }

    // The chain links, folds to the window, and shows the from-scratch view.
    std::vector<Manifest> manifests;
    for (const SegmentBytes& s : chain_) manifests.push_back(s.manifest);
    auto folded = ChainWindow(manifests, plan.full_generation);
    ASSERT_TRUE(folded.ok()) << folded.status().ToString();
    EXPECT_EQ(*folded, state.Objects()) << "batch " << batch;
    auto scratch = BuildGenerations(ctx_, plan, &snapshot_, Decode(window));
    ASSERT_TRUE(scratch.ok());
    ASSERT_EQ(Overlay(chain_), Overlay({Bytes(scratch->delta)})) << "seed " << GetParam() << " batch " << batch;
  }

  if (only_added) {
    // Merging the whole chain gives the from-scratch files.
    Result<BuiltGeneration> merged = Status::Internal("unset");
    if (chain_.size() >= 2) {
      merged = MergeSegments(ctx_, chain_, {});
    } else {
      BuiltGeneration only;
      for (const auto& [name, bytes] : chain_[0].files) only.files.push_back({name, bytes});
      merged = std::move(only);
    }
    std::vector<ObjectInfo> window;
    for (size_t f = first; f < next; ++f) {
      const auto& objs = by_partition_[folders[f]];
      window.insert(window.end(), objs.begin(), objs.end());
    }
    auto scratch = BuildGenerations(ctx_, Plan(window, batch), &snapshot_, Decode(window));
    ASSERT_TRUE(merged.ok() && scratch.ok());
    for (const SegmentFile& f : scratch->delta.files) {
      if (f.name == "quarantine.ndjson") continue;
      auto it = std::find_if(merged->files.begin(), merged->files.end(),
                             [&](const SegmentFile& m) { return m.name == f.name; });
      ASSERT_NE(it, merged->files.end()) << f.name;
      EXPECT_TRUE(it->bytes == f.bytes) << f.name << " seed " << GetParam();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ChainPropertyTest, ::testing::Range(1, 25));

}  // namespace
}  // namespace freshet
