// The commit plan replayed against an in-memory sink, stopping at every
// crash point: whatever CURRENT the sink then holds names complete
// generations, the watermark never moves backwards, and finishing the
// batch afterwards (a restart re-plans it with the same ids) ends with
// exactly the bytes of an uninterrupted commit.
#include "commit/commit_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "sink/sink_state.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;

BuiltGeneration Gen(std::string id, int files) {
  BuiltGeneration g;
  g.id = std::move(id);
  for (int i = 0; i < files; ++i) g.files.push_back({"seg" + std::to_string(i), g.id + " body " + std::to_string(i)});
  g.manifest_json = "{\"generation\":\"" + g.id + "\"}";
  return g;
}

// Batch `n` (1-based) on checkpoint `before`: a delta targeting kT0 + 5n min;
// batch 1 also builds the full.
BuildPlan PlanFor(const Checkpoint& before, int n) {
  BuildPlan p;
  p.batch_id = before.next_batch_id;
  p.kind = n == 1 ? BatchKind::kFullAndDelta : BatchKind::kDelta;
  p.target = kT0 + n * minutes(5);
  p.snapshot_time = kT0;
  p.full_generation = n == 1 ? "full/20251124T000000Z-00000000000000f1" : before.base_generation;
  p.delta_generation = "delta/2025112" + std::to_string(n) + "T000000Z-00000000000000d" + std::to_string(n);
  p.salt = "salt";
  return p;
}

BuiltBatch BuiltFor(const BuildPlan& p) {
  BuiltBatch b;
  if (p.kind == BatchKind::kFullAndDelta) b.full = Gen(p.full_generation, 3);
  b.delta = Gen(p.delta_generation, 2);
  return b;
}

void RunSteps(ObjectStore& sink, CommitPlan plan, size_t steps) {
  for (size_t i = 0; i < steps && i < plan.steps.size(); ++i) {
    for (PutRequest& put : plan.steps[i].puts) ASSERT_TRUE(PutSync(sink, std::move(put)).ok());
  }
}

std::map<std::string, std::string> Contents(ObjectStore& sink) {
  std::map<std::string, std::string> out;
  auto all = ListAllSync(sink, "");
  EXPECT_TRUE(all.ok());
  for (const ObjectInfo& o : *all) out[o.key] = GetSync(sink, o.key)->body;
  return out;
}

// Every generation CURRENT names has its manifest.
void ExpectCurrentNamesCompleteGenerations(ObjectStore& sink) {
  auto state = RecoverState(sink);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  if (!state->current) return;
  for (const std::string* id : {&state->current->full, &state->current->delta}) {
    if (id->empty()) continue;
    EXPECT_TRUE(HeadSync(sink, GenerationFileKey(*id, kManifestName)).ok()) << *id << " named but incomplete";
  }
}

TEST(CommitPlanTest, StepsWriteFilesThenManifestsThenCurrent) {
  Checkpoint before;
  BuildPlan plan = PlanFor(before, 1);
  CommitPlan cp = MakeCommitPlan(plan, BuiltFor(plan), before, std::nullopt);
  ASSERT_EQ(cp.steps.size(), 4u);
  EXPECT_EQ(cp.steps[0].crash_point, "before-segments");
  EXPECT_EQ(cp.steps[0].puts.size(), 5u);
  EXPECT_EQ(cp.steps[1].crash_point, "before-manifest");
  EXPECT_EQ(cp.steps[1].puts.at(0).key, GenerationFileKey(plan.full_generation, kManifestName));
  EXPECT_EQ(cp.steps[2].puts.at(0).key, GenerationFileKey(plan.delta_generation, kManifestName));
  EXPECT_EQ(cp.steps[3].crash_point, "before-current");
  ASSERT_EQ(cp.steps[3].puts.size(), 1u);
  EXPECT_EQ(cp.steps[3].puts[0].key, kCurrentKey);
  EXPECT_EQ(cp.steps[3].puts[0].body, EncodeCurrent(cp.current));
  EXPECT_TRUE(cp.steps[3].puts[0].if_none_match) << "the first CURRENT of a sink: create only";
  EXPECT_FALSE(cp.steps[3].puts[0].if_match.has_value());
  EXPECT_EQ(cp.current.full, plan.full_generation);
  EXPECT_EQ(cp.current.delta, plan.delta_generation);
  EXPECT_EQ(cp.current.watermark, plan.target);
  EXPECT_EQ(cp.current.checkpoint, AdvanceCheckpoint(before, plan));
  size_t bytes = 0;
  for (const auto& s : cp.steps)
    for (const auto& p : s.puts) bytes += p.body.size();
  EXPECT_EQ(cp.bytes, bytes);
}

TEST(CommitPlanTest, ADeltaBatchWritesOnlyTheDelta) {
  Checkpoint before;
  BuildPlan first = PlanFor(before, 1);
  Checkpoint after = MakeCommitPlan(first, BuiltFor(first), before, std::nullopt).current.checkpoint;
  BuildPlan plan = PlanFor(after, 2);
  CommitPlan cp = MakeCommitPlan(plan, BuiltFor(plan), after, "etag-of-1");
  ASSERT_EQ(cp.steps.size(), 3u);
  EXPECT_EQ(cp.steps[2].puts.at(0).if_match, "etag-of-1") << "CURRENT replaces only the version it read";
  EXPECT_FALSE(cp.steps[2].puts.at(0).if_none_match);
  for (const PutRequest& p : cp.steps[0].puts) EXPECT_EQ(p.key.rfind(plan.delta_generation, 0), 0u) << p.key;
  EXPECT_EQ(cp.current.full, first.full_generation);
}

// A crash after any number of steps of batch 2 (batch 1 committed), then a
// restart that recovers the state, re-plans and commits the same batch.
TEST(CommitPlanTest, EveryCrashPointRecoversToACommittedStateAndConverges) {
  MemoryStore reference;
  Checkpoint c0;
  BuildPlan p1 = PlanFor(c0, 1);
  CommitPlan cp1 = MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt);
  Checkpoint c1 = cp1.current.checkpoint;
  RunSteps(reference, std::move(cp1), 99);
  const std::optional<std::string> e1 = RecoverState(reference)->current_etag;
  ASSERT_TRUE(e1.has_value());
  BuildPlan p2 = PlanFor(c1, 2);
  RunSteps(reference, MakeCommitPlan(p2, BuiltFor(p2), c1, e1), 99);
  const auto want = Contents(reference);

  const size_t steps = MakeCommitPlan(p2, BuiltFor(p2), c1, e1).steps.size();
  for (size_t crash_after = 0; crash_after <= steps; ++crash_after) {
    SCOPED_TRACE("crash after step " + std::to_string(crash_after));
    MemoryStore sink;
    RunSteps(sink, MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt), 99);
    RunSteps(sink, MakeCommitPlan(p2, BuiltFor(p2), c1, e1), crash_after);

    auto state = RecoverState(sink);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    ASSERT_TRUE(state->current.has_value());
    ExpectCurrentNamesCompleteGenerations(sink);
    const bool committed = crash_after == steps;
    EXPECT_EQ(state->checkpoint.watermark, committed ? p2.target : p1.target);
    EXPECT_EQ(state->checkpoint.next_batch_id, committed ? 3u : 2u);
    if (committed) continue;

    // The restart plans the same batch from the recovered checkpoint.
    EXPECT_EQ(state->checkpoint, c1);
    BuildPlan again = PlanFor(state->checkpoint, 2);
    EXPECT_EQ(again, p2);
    RunSteps(sink, MakeCommitPlan(again, BuiltFor(again), state->checkpoint, state->current_etag), 99);
    EXPECT_EQ(Contents(sink), want);
  }
}

// Two writers recovered the same CURRENT; the first to commit wins, and the
// second's CURRENT is refused, so the watermark never moves backwards.
TEST(CommitPlanTest, ASecondWriterCannotReplaceCurrent) {
  MemoryStore sink;
  Checkpoint c0;
  BuildPlan p1 = PlanFor(c0, 1);
  RunSteps(sink, MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt), 99);
  auto read = RecoverState(sink);  // both daemons start here
  ASSERT_TRUE(read.ok());
  BuildPlan a = PlanFor(read->checkpoint, 2);
  RunSteps(sink, MakeCommitPlan(a, BuiltFor(a), read->checkpoint, read->current_etag), 99);
  const auto after_a = RecoverState(sink)->checkpoint;
  // B planned the same batch id against the old CURRENT: its CURRENT fails.
  BuildPlan b = PlanFor(read->checkpoint, 2);
  CommitPlan cb = MakeCommitPlan(b, BuiltFor(b), read->checkpoint, read->current_etag);
  PutRequest current = std::move(cb.steps.back().puts.front());
  Result<ObjectInfo> refused = PutSync(sink, std::move(current));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
  EXPECT_EQ(RecoverState(sink)->checkpoint, after_a);
  // And a new sink's first CURRENT is create-only: a racing second first
  // commit is refused too.
  MemoryStore fresh;
  RunSteps(fresh, MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt), 99);
  CommitPlan again = MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt);
  EXPECT_EQ(PutSync(fresh, std::move(again.steps.back().puts.front())).status().code(), StatusCode::kAlreadyExists);
}

TEST(CommitPlanTest, RecoverStateOfAnEmptySinkAndOfDamage) {
  MemoryStore sink;
  auto empty = RecoverState(sink);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->current.has_value());
  EXPECT_EQ(empty->checkpoint, Checkpoint{});
  EXPECT_FALSE(empty->legacy_checkpoint_file);

  ASSERT_TRUE(PutSync(sink, std::string(kCurrentKey), "{\"format\":1,").ok());
  auto damaged = RecoverState(sink);
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("CURRENT"), std::string::npos) << damaged.status().ToString();
}

// A sink written by freshet 0.1 has _freshet/checkpoint.json beside CURRENT:
// it still opens, from CURRENT, and the old file is reported.
TEST(CommitPlanTest, ASinkWithTheOldCheckpointFileStillOpens) {
  MemoryStore sink;
  Checkpoint c0;
  BuildPlan p1 = PlanFor(c0, 1);
  CommitPlan cp1 = MakeCommitPlan(p1, BuiltFor(p1), c0, std::nullopt);
  Checkpoint c1 = cp1.current.checkpoint;
  RunSteps(sink, std::move(cp1), 99);
  ASSERT_TRUE(PutSync(sink, std::string(kLegacyCheckpointKey), EncodeCheckpoint(c1)).ok());
  auto state = RecoverState(sink);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->legacy_checkpoint_file);
  EXPECT_EQ(state->checkpoint, c1);
}

TEST(CommitPlanTest, RetentionKeepsTheNewestAndEverythingCurrentNames) {
  CurrentPointer cur;
  cur.full = "full/20251124T000000Z-a";
  cur.delta = "delta/20251124T003000Z-f";
  BatchDescriptor older;
  older.full_generation = "full/20251123T000000Z-z";  // an old full a recent batch still named
  older.delta_generation = "delta/20251124T001000Z-b";
  cur.checkpoint.recent = {older};
  std::vector<std::string> fulls = {"full/20251124T000000Z-a", "full/20251123T000000Z-z", "full/20251122T000000Z-y",
                                    "full/20251121T000000Z-x"};
  std::vector<std::string> deltas = {"delta/20251124T000500Z-a", "delta/20251124T001000Z-b",
                                     "delta/20251124T001500Z-c", "delta/20251124T002000Z-d",
                                     "delta/20251124T002500Z-e", "delta/20251124T003000Z-f"};
  std::vector<std::string> victims = RetentionVictims(cur, fulls, deltas, 3);
  EXPECT_EQ(victims, (std::vector<std::string>{"full/20251121T000000Z-x", "delta/20251124T000500Z-a",
                                               "delta/20251124T001500Z-c"}));
  // retain below 2 is raised to 2; nothing is deleted when all are named or few.
  EXPECT_TRUE(RetentionVictims(cur, {cur.full}, {cur.delta}, 0).empty());
  // The pending merge, written by the Merger before a commit names it.
  cur.checkpoint.pending_merge = Checkpoint::PendingMerge{0, {"delta/20251124T000500Z-a"}, "delta/20251124T000500Z-a"};
  victims = RetentionVictims(cur, fulls, deltas, 3);
  EXPECT_EQ(std::count(victims.begin(), victims.end(), "delta/20251124T000500Z-a"), 0);
}

// A merged segment the Merger already wrote is made live by CURRENT alone:
// the commit writes the batch's segment, its manifest and CURRENT, and
// CURRENT's chain names the merged segment in place of its run.
TEST(CommitPlanTest, AMergeWrittenAheadIsMadeLiveByCurrentAlone) {
  Checkpoint cp;
  for (int n = 1; n <= 5; ++n) {
    BuildPlan plan = PlanFor(cp, n);
    cp = MakeCommitPlan(plan, BuiltFor(plan), cp, std::nullopt).current.checkpoint;
  }
  ASSERT_EQ(cp.chain.size(), 5u);
  cp.pending_merge = Checkpoint::PendingMerge{1, {cp.chain[1], cp.chain[2]}, "delta/20251125T000000Z-m0000000000000ab"};
  BuiltGeneration merged = Gen(cp.pending_merge->id, 2);
  merged.output_bytes = 1234;
  merged.in_sink = true;
  BuildPlan next = PlanFor(cp, 6);
  CommitPlan plan = MakeCommitPlan(next, BuiltFor(next), cp, "etag", &merged);
  std::vector<std::string> keys;
  for (const CommitStep& step : plan.steps) {
    for (const PutRequest& put : step.puts) keys.push_back(put.key);
  }
  for (const std::string& key : keys) {
    EXPECT_EQ(key.find(merged.id), std::string::npos) << key << ": written by the Merger, not again";
  }
  EXPECT_EQ(keys.back(), std::string(kCurrentKey));
  EXPECT_EQ(plan.current.checkpoint.chain,
            (std::vector<std::string>{cp.chain[0], merged.id, cp.chain[3], cp.chain[4], next.delta_generation}));
  EXPECT_EQ(plan.current.checkpoint.chain_bytes[1], 1234u);
}

}  // namespace
}  // namespace freshet
