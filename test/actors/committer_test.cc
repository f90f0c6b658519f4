// The Committer driven by messages over an in-memory sink: it commits a
// built batch in the commit plan's order, owns the checkpoint and announces
// it before the batch ends, refuses a plan made against another
// checkpoint, and a failed write leaves CURRENT as it was.
#include "actors/committer.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "sink/sink_state.h"
#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;
using testing::Drain;
using testing::OfKind;
using testing::RunUntil;
using testing::Settle;


BuiltGeneration Gen(const std::string& id) {
  BuiltGeneration g;
  g.id = id;
  g.files.push_back({"terms", id + " terms"});
  g.files.push_back({"postings", id + " postings"});
  g.manifest_json = "{\"generation\":\"" + id + "\"}";
  return g;
}

// Batch n on `before`: batch 1 builds the full; the target is 16:00 + 5n min.
CommitRequest Request(const Checkpoint& before, int n) {
  CommitRequest r;
  BuildPlan& p = r.plan;
  p.batch_id = before.next_batch_id;
  p.kind = n == 1 ? BatchKind::kFullAndDelta : BatchKind::kDelta;
  p.target = kT0 + n * minutes(5);
  p.snapshot_time = kT0;
  p.full_generation = n == 1 ? "full/20251124T160000Z-00000000000000f1" : before.base_generation;
  p.delta_generation = "delta/20251124T16" + std::to_string(10 + 5 * n) + "00Z-00000000000000d" + std::to_string(n);
  p.salt = "salt";
  if (n == 1) r.built.full = Gen(p.full_generation);
  r.built.delta = Gen(p.delta_generation);
  r.progress.batch_id = p.batch_id;
  r.progress.trigger_time = kT0 + minutes(20) - std::chrono::milliseconds(1500);  // 1.5 s before the clock's now
  return r;
}

class CommitterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& close : closers_) close();
    Settle(io_);
  }
  std::shared_ptr<Committer> Make(ObjectStore* sink, const Checkpoint& cp = Checkpoint{}, uint32_t retain = 2,
                                  std::optional<std::string> current_etag = std::nullopt,
                                  std::optional<Committer::Lease> lease = std::nullopt) {
    auto c = std::make_shared<Committer>(io_, sink, Committer::Config{retain, 4, minutes(5)}, cp,
                                         std::move(current_etag), &clock_, std::move(lease));
    c->Connect({&peers_.lister, &peers_.planner, &peers_.watchdog, &peers_.control, /*merger=*/nullptr,
                BatchRoute{&peers_.board, &peers_.watchdog, &peers_.ticker}});
    c->Start();
    closers_.push_back([c] { c->mailbox().Close(); });
    return c;
  }
  // Commits and returns the batch's end as the Ticker hears it.
  BatchFinished Commit(Committer& c, CommitRequest r) {
    EXPECT_TRUE(Delivered(c.mailbox().Post(std::move(r))));
    std::vector<TickerMsg> got;
    EXPECT_TRUE(RunUntil(io_, [&] {
      for (auto& m : Drain(peers_.ticker)) got.push_back(std::move(m));
      return !got.empty();
    }));
    auto finished = OfKind<BatchFinished>(got);
    return finished.empty() ? BatchFinished{} : finished[0];
  }

  asio::io_context io_;
  ManualClock clock_{kT0 + minutes(20)};
  MemoryStore sink_;
  testing::Peers peers_{io_, &clock_};
  std::vector<std::function<void()>> closers_;  // last: the actors go first
};

TEST_F(CommitterTest, CommitsAndAnnouncesTheCheckpointItOwns) {
  auto c = Make(&sink_);
  BatchFinished end = Commit(*c, Request(Checkpoint{}, 1));
  EXPECT_TRUE(end.built);
  EXPECT_FALSE(end.failed);
  auto state = RecoverState(sink_);
  ASSERT_TRUE(state.ok() && state->current);
  EXPECT_EQ(state->checkpoint.watermark, kT0 + minutes(5));
  EXPECT_EQ(state->checkpoint.next_batch_id, 2u);
  // The Lister and the Planner learn the new checkpoint (before the Ticker
  // hears of the end: they were posted first).
  auto to_lister = OfKind<CheckpointAdvanced>(Drain(peers_.lister));
  auto to_planner = OfKind<CheckpointAdvanced>(Drain(peers_.planner));
  ASSERT_EQ(to_lister.size(), 1u);
  ASSERT_EQ(to_planner.size(), 1u);
  EXPECT_EQ(to_lister[0].checkpoint, state->checkpoint);
  EXPECT_EQ(to_planner[0].checkpoint, state->checkpoint);
  // The report: committed, with the freshness lag at the commit (16:20 now,
  // the 16:05 partition ended 16:10).
  auto batches = peers_.board.RecentBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].outcome, BatchOutcome::kCommitted);
  EXPECT_EQ(batches[0].freshness_lag_seconds, 600);
  EXPECT_EQ(batches[0].since_trigger_seconds, 1.5) << "trigger -> committed, by the clock";
  EXPECT_EQ(peers_.board.Snapshot().watermark, kT0 + minutes(5));

  // The next batch builds on the checkpoint the Committer now holds.
  EXPECT_TRUE(Commit(*c, Request(state->checkpoint, 2)).built);
  EXPECT_EQ(RecoverState(sink_)->checkpoint.next_batch_id, 3u);
}

TEST_F(CommitterTest, APlanMadeAgainstAnotherCheckpointIsRefused) {
  auto c = Make(&sink_);
  Checkpoint stale;
  stale.next_batch_id = 5;  // the sink's next batch is 1
  CommitRequest r = Request(stale, 1);
  BatchFinished end = Commit(*c, std::move(r));
  EXPECT_TRUE(end.failed);
  EXPECT_TRUE(sink_.Keys().empty()) << "nothing written";
  EXPECT_TRUE(Drain(peers_.planner).empty());
  EXPECT_NE(peers_.board.RecentBatches().at(0).message.find("another checkpoint"), std::string::npos);
}

TEST_F(CommitterTest, AFailedWriteLeavesCurrentAndTheCheckpointAsTheyWere) {
  auto backend = std::make_shared<MemoryStore>();
  FaultStore sink(backend, 1);
  auto c = Make(&sink);
  ASSERT_TRUE(Commit(*c, Request(Checkpoint{}, 1)).built);
  const Checkpoint c1 = RecoverState(*backend)->checkpoint;
  Drain(peers_.lister);
  Drain(peers_.planner);
  sink.FailNthCall(2, StoreOp::kPut);  // a manifest or segment write of batch 2
  EXPECT_TRUE(Commit(*c, Request(c1, 2)).failed);
  EXPECT_EQ(RecoverState(*backend)->checkpoint, c1);
  EXPECT_TRUE(Drain(peers_.planner).empty()) << "no checkpoint announced for a failed commit";
  // The batch is planned again (same ids) and commits.
  EXPECT_TRUE(Commit(*c, Request(c1, 2)).built);
  EXPECT_EQ(RecoverState(*backend)->checkpoint.watermark, kT0 + minutes(10));
}

// Two daemons on one sink: both recovered the same CURRENT; the first
// commits; the second's commit is refused at CURRENT, names what it found,
// and tells RunControl to end the run. The watermark stays the first's.
TEST_F(CommitterTest, ASecondWriterIsFencedAtItsCommit) {
  auto first = Make(&sink_);
  ASSERT_TRUE(Commit(*first, Request(Checkpoint{}, 1)).built);
  auto read = RecoverState(sink_);
  ASSERT_TRUE(read.ok() && read->current_etag);
  auto second = Make(&sink_, read->checkpoint, 2, read->current_etag);
  // The first moves on by two batches. (The same batch 2 from the second
  // would be the same bytes: that one it would find already there.)
  ASSERT_TRUE(Commit(*first, Request(read->checkpoint, 2)).built);
  ASSERT_TRUE(Commit(*first, Request(RecoverState(sink_)->checkpoint, 3)).built);
  const Checkpoint after_first = RecoverState(sink_)->checkpoint;
  BatchFinished end = Commit(*second, Request(read->checkpoint, 2));
  EXPECT_TRUE(end.failed);
  EXPECT_EQ(RecoverState(sink_)->checkpoint, after_first) << "the watermark never moves backwards";
  auto fenced = OfKind<WriterFenced>(Drain(peers_.control));
  ASSERT_EQ(fenced.size(), 1u);
  EXPECT_NE(fenced[0].reason.find("another writer replaced CURRENT"), std::string::npos) << fenced[0].reason;
  EXPECT_NE(fenced[0].reason.find(sink_.Describe()), std::string::npos) << fenced[0].reason;
  EXPECT_NE(fenced[0].reason.find("next batch 4"), std::string::npos) << fenced[0].reason;
  // The first keeps committing: it wrote the CURRENT it knows.
  EXPECT_TRUE(Commit(*first, Request(after_first, 4)).built);
}

// The writer lease is renewed every ttl / 3 on the Clock; a renewal that
// finds another holder (this daemon was cut off longer than the lease)
// ends the run.
TEST_F(CommitterTest, RenewsTheWriterLeaseAndStopsWhenItWasTaken) {
  WriterLease me = ThisWriter(clock_.Now());
  auto etag = AcquireWriterLease(sink_, me, clock_.Now(), minutes(1));
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  auto c = Make(&sink_, Checkpoint{}, 2, std::nullopt, Committer::Lease{me, *etag, minutes(1)});
  auto lease_now = [&] { return DecodeWriterLease(GetSync(sink_, std::string(kWriterLeaseKey))->body); };
  Settle(io_);
  clock_.Advance(std::chrono::seconds(20));
  EXPECT_TRUE(RunUntil(io_, [&] { return lease_now()->renewed == clock_.Now(); })) << "renewed after ttl / 3";
  Settle(io_);  // the renewal's completion re-arms the timer
  // Another daemon takes the sink over (this one looked dead to it).
  WriterLease other = me;
  other.host = "other-host";
  other.nonce = "theirs";
  ASSERT_TRUE(PutSync(sink_, std::string(kWriterLeaseKey), EncodeWriterLease(other)).ok());
  clock_.Advance(std::chrono::seconds(20));
  std::vector<ControlMsg> got;
  EXPECT_TRUE(RunUntil(io_, [&] {
    for (auto& m : Drain(peers_.control)) got.push_back(std::move(m));
    return !got.empty();
  }));
  auto fenced = OfKind<WriterFenced>(got);
  ASSERT_EQ(fenced.size(), 1u);
  EXPECT_NE(fenced[0].reason.find("taken by other-host pid"), std::string::npos) << fenced[0].reason;
  EXPECT_EQ(lease_now()->host, "other-host") << "the other's lease is left alone";
}

TEST_F(CommitterTest, RetentionDeletesWhatNoRetainedCurrentNames) {
  auto c = Make(&sink_, Checkpoint{}, /*retain=*/2);
  Checkpoint cp;
  for (int n = 1; n <= 12; ++n) {
    CommitRequest r = Request(cp, n);
    r.built.delta.starts_chain = true;  // each batch's segment replaces the chain
    ASSERT_TRUE(Commit(*c, std::move(r)).built) << n;
    cp = RecoverState(sink_)->checkpoint;
  }
  auto deltas = ListAllSync(sink_, "delta/");
  ASSERT_TRUE(deltas.ok());
  std::set<std::string> ids;
  for (const auto& o : *deltas) ids.insert(o.key.substr(0, o.key.find('/', 6)));
  // The CURRENTs of the last 8 batches named the last 8 chains; older
  // segments are gone.
  EXPECT_EQ(ids.size(), kMaxRecentBatches);
  EXPECT_TRUE(ids.count(cp.delta_generation));
  EXPECT_EQ(cp.chain, std::vector<std::string>{cp.delta_generation});
  EXPECT_EQ(cp.retired.size(), kMaxRecentBatches - 1);
}

TEST_F(CommitterTest, RetentionAlsoRunsAtStartUp) {
  // A run killed during retention: CURRENT names the newest generations,
  // and an old one it meant to delete is still there.
  Checkpoint cp;
  {
    auto c = Make(&sink_, Checkpoint{}, /*retain=*/2);
    for (int n = 1; n <= 4; ++n) {
      CommitRequest r = Request(cp, n);
      r.built.delta.starts_chain = true;
      ASSERT_TRUE(Commit(*c, std::move(r)).built) << n;
      cp = RecoverState(sink_)->checkpoint;
    }
  }
  const std::string orphan = "delta/20240101T000000Z-00000000000000aa";
  ASSERT_TRUE(PutSync(sink_, GenerationFileKey(orphan, "ids"), "x").ok());
  ASSERT_TRUE(PutSync(sink_, GenerationFileKey(orphan, kManifestName), "{}").ok());
  auto restarted = Make(&sink_, cp, /*retain=*/2, RecoverState(sink_)->current_etag);
  Settle(io_);
  EXPECT_EQ(GetSync(sink_, GenerationFileKey(orphan, kManifestName)).status().code(), StatusCode::kNotFound)
      << "deleted at start-up, before any commit";
  EXPECT_TRUE(GetSync(sink_, GenerationFileKey(cp.delta_generation, kManifestName)).ok()) << "CURRENT's stays";
}

TEST_F(CommitterTest, RetentionKeepsEverySegmentOfTheChain) {
  auto c = Make(&sink_, Checkpoint{}, /*retain=*/2);
  Checkpoint cp;
  for (int n = 1; n <= 12; ++n) {
    ASSERT_TRUE(Commit(*c, Request(cp, n)).built) << n;
    cp = RecoverState(sink_)->checkpoint;
  }
  auto deltas = ListAllSync(sink_, "delta/");
  ASSERT_TRUE(deltas.ok());
  std::set<std::string> ids;
  for (const auto& o : *deltas) ids.insert(o.key.substr(0, o.key.find('/', 6)));
  ASSERT_EQ(cp.chain.size(), 12u);
  EXPECT_EQ(ids, std::set<std::string>(cp.chain.begin(), cp.chain.end()));
}

TEST_F(CommitterTest, AnswersHeartbeats) {
  auto c = Make(&sink_);
  ASSERT_TRUE(Delivered(c->mailbox().Post(Ping{9})));
  Settle(io_);
  auto pongs = OfKind<Pong>(Drain(peers_.watchdog));
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].actor, "committer");
}

}  // namespace
}  // namespace freshet
