// The Builder driven by messages over generated input in a memory store and
// a real compute pool: a plan becomes a CommitRequest with the batch's
// bytes and figures; a failed fetch ends the batch naming the object.
#include "actors/builder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "actors/actor_test_support.h"
#include "config/schema_hash.h"
#include "gen/generator.h"
#include "plan/partition_layout.h"
#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/temp_dir.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;
using testing::Drain;
using testing::OfKind;
using testing::RunUntil;


class BuilderTest : public ::testing::Test {
 protected:
  // Closing the mailbox ends the receive loop, which holds the actor.
  void TearDown() override {
    for (auto& close : closers_) close();
    testing::Settle(io_);
  }
  void SetUp() override {
    gen_.seed = 11;
    gen_.start = kT0;
    gen_.campaigns = 4;
    gen_.ad_groups_per_campaign = 3;
    gen_.ads_per_ad_group = 4;
    gen_.updates_per_partition = 40;
    gen_.objects_per_partition = 2;
    auto state = GenState::Create(gen_);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    ASSERT_TRUE(WriteSnapshot(gen_, *state, kT0, source_).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(GeneratePartition(gen_, *state, kT0 + i * minutes(5), source_).ok());
    options_.schema = DefaultAdsSchema();
    options_.pipeline.compute_threads = 2;
    options_.pipeline.max_bad_ratio = 0.05;
  }

  // What the pure planner makes of the whole source at 16:30.
  BuildPlan PlanNow() {
    auto layout = PartitionLayout::Create(options_.source.layout, options_.source.partition_interval);
    std::map<TimePoint, std::vector<ObjectInfo>> parts, snaps;
    for (const auto& [prefix, out] : {std::pair{std::string("updates/"), &parts}, {"snapshots/", &snaps}}) {
      auto objects = ListAllSync(source_, prefix);
      EXPECT_TRUE(objects.ok());
      for (const ObjectInfo& o : *objects) {
        auto t = layout->ParseKey(std::string_view(o.key).substr(prefix.size()));
        if (t) (*out)[*t].push_back(o);
      }
    }
    std::vector<PartitionListing> pl;
    for (auto& [t, objs] : parts) pl.push_back({t, objs});
    std::vector<SnapshotListing> sl;
    for (auto& [t, objs] : snaps) sl.push_back({t, objs});
    PlanDecision d = Plan(PlannerConfigFromOptions(options_, "salt"), Checkpoint{}, pl, sl, kT0 + minutes(30));
    EXPECT_NE(d.build(), nullptr);
    return d.build() ? *d.build() : BuildPlan{};
  }

  std::shared_ptr<Builder> Make(ObjectStore* source) {
    auto b = std::make_shared<Builder>(io_, source, &sink_, &pool_, options_, SchemaHash(options_.schema));
    b->Connect({&peers_.committer, &peers_.watchdog, nullptr, BatchRoute{&peers_.board, &peers_.watchdog, &peers_.ticker}});
    b->Start();
    closers_.push_back([b] { b->mailbox().Close(); });
    return b;
  }

  asio::io_context io_;
  ManualClock clock_{kT0 + minutes(30)};
  GenOptions gen_;
  MemoryStore source_;
  MemoryStore sink_;  // the chain's manifests (none: every plan here starts a chain)
  Options options_;
  ThreadPool pool_{"compute", 2, 64};
  testing::Peers peers_{io_, &clock_};
  std::vector<std::function<void()>> closers_;  // last: the actors go first
};

TEST_F(BuilderTest, APlanBecomesACommitRequestWithTheBatchsBytes) {
  auto b = Make(&source_);
  BuildPlan plan = PlanNow();
  ASSERT_EQ(plan.kind, BatchKind::kFullAndDelta);
  BuildRequest req;
  req.progress.batch_id = plan.batch_id;
  req.plan = plan;
  ASSERT_TRUE(Delivered(b->mailbox().Post(std::move(req))));
  std::vector<CommitterMsg> got;
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (auto& m : Drain(peers_.committer)) got.push_back(std::move(m));
    return !got.empty();
  }));
  auto commits = OfKind<CommitRequest>(got);
  ASSERT_EQ(commits.size(), 1u);
  const CommitRequest& c = commits[0];
  EXPECT_EQ(c.plan, plan);
  ASSERT_TRUE(c.built.full.has_value());
  EXPECT_EQ(c.built.full->id, plan.full_generation);
  EXPECT_EQ(c.built.delta.id, plan.delta_generation);
  EXPECT_FALSE(c.built.delta.files.empty());
  EXPECT_EQ(c.progress.stages_reached, 5);
  EXPECT_GT(c.progress.records, 0u);
  EXPECT_EQ(c.progress.objects, plan.window_objects.size() + plan.snapshot_objects.size());
  EXPECT_GT(c.progress.full_docs, 0);
  EXPECT_TRUE(Drain(peers_.ticker).empty()) << "the batch goes on to the Committer";

  // The same plan again gives the same bytes. The window objects are held;
  // the snapshot was dropped after the full batch (the next deltas read the
  // full's entities), so a retried full batch parses it again.
  BuildRequest again;
  again.plan = plan;
  ASSERT_TRUE(Delivered(b->mailbox().Post(std::move(again))));
  std::vector<CommitterMsg> second;
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (auto& m : Drain(peers_.committer)) second.push_back(std::move(m));
    return !second.empty();
  }));
  auto commits2 = OfKind<CommitRequest>(second);
  ASSERT_EQ(commits2.size(), 1u);
  EXPECT_EQ(commits2[0].built.delta.manifest_json, c.built.delta.manifest_json);
  EXPECT_EQ(commits2[0].progress.objects, plan.snapshot_objects.size()) << "the window objects are not fetched twice";
}

// Every full-batch file, by generation and name.
std::map<std::string, std::string> BatchBytes(const BuiltBatch& b) {
  std::map<std::string, std::string> out;
  for (const BuiltGeneration* g : {&b.delta, b.full ? &*b.full : nullptr}) {
    if (g == nullptr) continue;
    for (const SegmentFile& f : g->files) out[g->id + "/" + f.name] = f.bytes;
    out[g->id + "/manifest"] = g->manifest_json;
  }
  return out;
}

TEST_F(BuilderTest, ATinyMemoryBudgetSpillsRunsAndHoldsFetchesBackForTheSameBytes) {
  // The snapshot as several objects, so that fetches can run ahead of the parse.
  auto old = ListAllSync(source_, "snapshots/");
  ASSERT_TRUE(old.ok());
  for (const ObjectInfo& o : *old) ASSERT_TRUE(DeleteSync(source_, o.key).ok());
  gen_.snapshot_lines_per_object = 7;
  auto state = GenState::Create(gen_);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_TRUE(WriteSnapshot(gen_, *state, kT0, source_).ok());
  auto build = [this] {
    auto b = Make(&source_);
    BuildPlan plan = PlanNow();
    BuildRequest req;
    req.plan = plan;
    EXPECT_TRUE(Delivered(b->mailbox().Post(std::move(req))));
    std::vector<CommitterMsg> got;
    EXPECT_TRUE(RunUntil(io_, [&] {
      for (auto& m : Drain(peers_.committer)) got.push_back(std::move(m));
      return !got.empty();
    }));
    auto commits = OfKind<CommitRequest>(got);
    EXPECT_EQ(commits.size(), 1u);
    return commits.empty() ? std::map<std::string, std::string>{} : BatchBytes(commits[0].built);
  };
  const auto want = build();
  ASSERT_FALSE(want.empty());
  ASSERT_GT(PlanNow().snapshot_objects.size(), 5u);
  testing::TempDir scratch;
  // Below any one object: every fetch but the parse's next waits for the
  // parse, and the records spill a run every few of them.
  options_.pipeline.memory_budget = 4096;
  options_.pipeline.scratch_dir = scratch.Join("runs");
  EXPECT_TRUE(build() == want);
  EXPECT_TRUE(std::filesystem::exists(scratch.Join("runs"))) << "runs were written";
  EXPECT_TRUE(std::filesystem::is_empty(scratch.Join("runs"))) << "and removed after the batch";
}

// The fetch-ahead admits objects in order: one that arrives while another
// waits for the budget waits behind it. Admitted past it, a later chunk
// could take the bytes the waiting object's chunk needs, and since chunks
// are consumed in order neither would ever finish (a full build hung so at
// 20M documents). Sizes in units of the fetch-ahead (budget / 16 = 100 KB,
// chunks cut at 25 KB): A 45, B 45, C 50, then D 5 + E 45 in one chunk.
// A and B are stalled, so every fetch is asked for before any chunk is
// consumed: C waits, and D must not start its chunk past C.
TEST_F(BuilderTest, AFetchNeverOvertakesOneWaitingForTheBudget) {
  auto old = ListAllSync(source_, "snapshots/");
  ASSERT_TRUE(old.ok());
  ASSERT_FALSE(old->empty());
  const std::string folder = old->front().key.substr(0, old->front().key.rfind('/') + 1);
  for (const ObjectInfo& o : *old) ASSERT_TRUE(DeleteSync(source_, o.key).ok());
  int next_id = 0;
  auto object = [&next_id](size_t bytes) {
    std::string body;
    while (body.size() < bytes) {
      body += R"({"type":"campaign","id":"c)" + std::to_string(next_id++) + R"(","version":1,"status":"ACTIVE"})" "\n";
    }
    return body;
  };
  const std::vector<size_t> sizes = {45'000, 45'000, 50'000, 5'000, 45'000};
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(PutSync(source_, folder + "part-0000" + std::to_string(i) + ".ndjson", object(sizes[i])).ok());
  }
  testing::TempDir scratch;
  options_.pipeline.memory_budget = 16 * 100'000;
  options_.pipeline.fetch_parallelism = 16;
  options_.pipeline.scratch_dir = scratch.Join("runs");
  auto inner = std::make_shared<MemoryStore>();
  auto all = ListAllSync(source_, "");
  ASSERT_TRUE(all.ok());
  for (const ObjectInfo& o : *all) {
    auto got = GetSync(source_, o.key);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(PutSync(*inner, o.key, got->body).ok());
  }
  FaultStore faults(inner);
  for (const char* stalled : {"part-00000", "part-00001"}) {
    FaultStore::Rule rule;
    rule.kind = FaultStore::Rule::Kind::kStall;
    rule.op = StoreOp::kGet;
    rule.key_prefix = folder + stalled;
    rule.delay = std::chrono::milliseconds(300);
    faults.AddRule(rule);
  }
  BuildPlan plan = PlanNow();
  ASSERT_EQ(plan.snapshot_objects.size(), sizes.size());
  auto b = Make(&faults);
  BuildRequest req;
  req.plan = plan;
  ASSERT_TRUE(Delivered(b->mailbox().Post(std::move(req))));
  std::vector<CommitterMsg> got;
  ASSERT_TRUE(RunUntil(
      io_,
      [&] {
        for (auto& m : Drain(peers_.committer)) got.push_back(std::move(m));
        return !got.empty();
      },
      std::chrono::seconds(20)))
      << "the build never finished: fetches deadlocked on the fetch-ahead";
  auto commits = OfKind<CommitRequest>(got);
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_TRUE(commits[0].built.full.has_value());
  EXPECT_EQ(faults.counters()[StoreOp::kGet].stalls, 2u);
}

TEST_F(BuilderTest, AnObjectGoneSinceTheListingEndsTheBatchNamingIt) {
  BuildPlan plan = PlanNow();
  const std::string gone = plan.window_objects.back().key;
  ASSERT_TRUE(DeleteSync(source_, gone).ok());
  auto b = Make(&source_);
  BuildRequest req;
  req.progress.batch_id = plan.batch_id;
  req.plan = plan;
  ASSERT_TRUE(Delivered(b->mailbox().Post(std::move(req))));
  std::vector<TickerMsg> got;
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (auto& m : Drain(peers_.ticker)) got.push_back(std::move(m));
    return !got.empty();
  }));
  auto finished = OfKind<BatchFinished>(got);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_TRUE(finished[0].failed);
  EXPECT_TRUE(Drain(peers_.committer).empty());
  auto batches = peers_.board.RecentBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_NE(batches[0].message.find(gone), std::string::npos) << batches[0].message;
  // The watchdog hears of it too (the batch had an id).
  EXPECT_EQ(OfKind<BatchFinished>(Drain(peers_.watchdog)).size(), 1u);
}

TEST_F(BuilderTest, AnswersHeartbeats) {
  auto b = Make(&source_);
  ASSERT_TRUE(Delivered(b->mailbox().Post(Ping{2})));
  testing::Settle(io_);
  auto pongs = OfKind<Pong>(Drain(peers_.watchdog));
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].actor, "builder");
}

}  // namespace
}  // namespace freshet
