// The Lister driven by messages over an in-memory source and a ManualClock:
// what it hands the Planner (stamped with the listing's own time), what a
// probe measures, how the Committer's checkpoint moves its lower bounds,
// and that a failed listing ends its batch.
#include "actors/lister.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;
using testing::Drain;
using testing::OfKind;
using testing::Settle;


std::string PartitionKey(TimePoint t, const std::string& name) {
  auto layout = PartitionLayout::Create("%Y/%m/%d/%H/%M", minutes(5));
  return "updates/" + layout->Format(t) + name;
}

class ListerTest : public ::testing::Test {
 protected:
  // Closing the mailbox ends the receive loop, which holds the actor.
  void TearDown() override {
    for (auto& close : closers_) close();
    testing::Settle(io_);
  }
  void SetUp() override { options_.source.partition_interval = minutes(5); }

  std::shared_ptr<Lister> Make(ObjectStore* source, const Checkpoint& cp = Checkpoint{}) {
    PlannerConfig pc = PlannerConfigFromOptions(options_, "salt");
    auto layout = PartitionLayout::Create(options_.source.layout, options_.source.partition_interval);
    auto l = std::make_shared<Lister>(io_, source, options_, *layout, pc, cp, &clock_);
    l->Connect({&peers_.planner, &peers_.ticker, &peers_.watchdog,
                BatchRoute{&peers_.board, &peers_.watchdog, &peers_.ticker}});
    l->Start();
    closers_.push_back([l] { l->mailbox().Close(); });
    return l;
  }
  void Put(TimePoint partition, const std::string& name, size_t bytes) {
    ASSERT_TRUE(PutSync(source_, PartitionKey(partition, name), std::string(bytes, 'x')).ok());
  }
  // Lists and returns what reached the Planner.
  std::vector<PlanRequest> ListForBatch(Lister& l) {
    EXPECT_TRUE(Delivered(l.mailbox().Post(ListNow{clock_.Now(), false})));
    Settle(io_);
    return OfKind<PlanRequest>(Drain(peers_.planner));
  }

  asio::io_context io_;
  ManualClock clock_{kT0 + minutes(20)};
  Options options_;
  MemoryStore source_;
  testing::Peers peers_{io_, &clock_};
  std::vector<std::function<void()>> closers_;  // last: the actors go first
};

TEST_F(ListerTest, HandsThePlannerTheListingStampedWithItsOwnTime) {
  Put(kT0, "a.ndjson", 10);
  Put(kT0, "b.ndjson", 20);
  Put(kT0 + minutes(5), "a.ndjson", 30);
  auto l = Make(&source_);
  EXPECT_TRUE(peers_.board.NotReady().has_value());
  auto reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  const ListingReport& r = reqs[0].listing;
  EXPECT_EQ(r.listed_at, kT0 + minutes(20));
  EXPECT_EQ(reqs[0].progress.trigger_time, kT0 + minutes(20));
  EXPECT_EQ(reqs[0].progress.stages_reached, 1);
  ASSERT_EQ(r.partitions().size(), 2u);
  EXPECT_EQ(r.partitions()[0].time, kT0);
  EXPECT_EQ(r.partitions()[0].objects.size(), 2u);
  EXPECT_EQ(r.partitions()[1].time, kT0 + minutes(5));
  EXPECT_GE(r.list_requests, 2u);  // updates and snapshots
  // The first listing makes the daemon ready (once running).
  peers_.board.Publish(RunStarted{});
  EXPECT_FALSE(peers_.board.NotReady().has_value()) << *peers_.board.NotReady();
}

TEST_F(ListerTest, FrozenFoldersAreNotListedAgain) {
  Put(kT0, "a.ndjson", 10);
  auto l = Make(&source_);
  ASSERT_EQ(ListForBatch(*l).size(), 1u);
  source_.ResetCallCounts();
  // 16:00 settled at 16:07 (end + grace): the next LIST starts after it.
  Put(kT0 + minutes(10), "a.ndjson", 10);
  auto reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_EQ(reqs[0].listing.partitions().size(), 2u) << "the frozen folder is still reported";
  EXPECT_EQ(source_.call_counts().list, 2u);
}

// Frozen folders still change (producer compaction rewrites an object,
// source retention deletes one, a late object lands): the whole window is
// listed again every source.relist_interval and when the Builder says an
// object moved under it.
TEST_F(ListerTest, TheWholeWindowIsListedAgainEveryRelistIntervalAndWhenTold) {
  options_.source.relist_interval = minutes(1);
  Put(kT0, "a.ndjson", 10);
  auto l = Make(&source_);
  auto reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].listing.whole_window) << "the first listing is whole";
  const std::string old_etag = reqs[0].listing.partitions()[0].objects[0].etag;

  Put(kT0, "a.ndjson", 11);  // rewritten in the frozen 16:00
  reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].listing.whole_window);
  EXPECT_EQ(reqs[0].listing.partitions()[0].objects[0].etag, old_etag) << "not listed again yet";

  ASSERT_TRUE(Delivered(l->mailbox().Post(RelistWindow{"test: an object moved"})));
  reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].listing.whole_window);
  ASSERT_EQ(reqs[0].listing.partitions().size(), 1u);
  EXPECT_NE(reqs[0].listing.partitions()[0].objects[0].etag, old_etag);
  EXPECT_EQ(reqs[0].listing.partitions()[0].objects[0].size, 11u);

  // Deleted, and a late object in another frozen folder: seen once the
  // interval has passed.
  ASSERT_TRUE(DeleteSync(source_, PartitionKey(kT0, "a.ndjson")).ok());
  Put(kT0 + minutes(5), "late.ndjson", 7);
  clock_.Advance(std::chrono::seconds(30));
  reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].listing.whole_window);
  EXPECT_EQ(reqs[0].listing.partitions().size(), 2u) << "16:05 was not frozen yet: listed, 16:00 kept";
  clock_.Advance(std::chrono::seconds(31));
  reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].listing.whole_window);
  ASSERT_EQ(reqs[0].listing.partitions().size(), 1u);
  EXPECT_EQ(reqs[0].listing.partitions()[0].time, kT0 + minutes(5));
}

TEST_F(ListerTest, AProbeMeasuresEligibleInputAfterTheWatermark) {
  Put(kT0, "a.ndjson", 100);                // eligible, at the watermark: built
  Put(kT0 + minutes(5), "a.ndjson", 200);   // eligible (16:12 <= 16:20), not built
  Put(kT0 + minutes(15), "a.ndjson", 400);  // not eligible until 16:22
  Checkpoint cp;
  cp.watermark = kT0;
  auto l = Make(&source_, cp);
  ASSERT_TRUE(Delivered(l->mailbox().Post(ListNow{clock_.Now(), true})));
  Settle(io_);
  EXPECT_TRUE(Drain(peers_.planner).empty()) << "a probe starts no batch";
  auto measured = OfKind<PendingMeasured>(Drain(peers_.ticker));
  ASSERT_EQ(measured.size(), 1u);
  EXPECT_EQ(measured[0].bytes, 200u);
}

TEST_F(ListerTest, TheCommittedCheckpointMovesTheLowerBound) {
  for (int i = 0; i < 12; ++i) Put(kT0 - minutes(60) + i * minutes(5), "a.ndjson", 10);
  auto l = Make(&source_);
  ASSERT_EQ(ListForBatch(*l).at(0).listing.partitions().size(), 12u);
  // A base snapshot at 15:30: with the default 10-minute overlap the window
  // starts at 15:20, and older partitions are forgotten.
  Checkpoint cp;
  cp.watermark = kT0 - minutes(5);
  cp.base_snapshot = kT0 - minutes(30);
  cp.next_batch_id = 2;
  ASSERT_TRUE(Delivered(l->mailbox().Post(CheckpointAdvanced{cp})));
  auto reqs = ListForBatch(*l);
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_FALSE(reqs[0].listing.partitions().empty());
  EXPECT_EQ(reqs[0].listing.partitions().front().time, kT0 - minutes(40)) << "first slot reaching past 15:20";
}

TEST_F(ListerTest, AFailedListingEndsItsBatch) {
  Put(kT0, "a.ndjson", 10);
  FaultStore faulty(std::make_unique<MemoryStore>(), 1);
  faulty.FailNthCall(1, StoreOp::kList);
  auto l = Make(&faulty);
  EXPECT_TRUE(ListForBatch(*l).empty());
  auto finished = OfKind<BatchFinished>(Drain(peers_.ticker));
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_TRUE(finished[0].failed);
  auto batches = peers_.board.RecentBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].outcome, BatchOutcome::kFailed);
  EXPECT_NE(batches[0].message.find("list"), std::string::npos) << batches[0].message;
}

TEST_F(ListerTest, AnswersHeartbeats) {
  auto l = Make(&source_);
  ASSERT_TRUE(Delivered(l->mailbox().Post(Ping{3})));
  Settle(io_);
  auto pongs = OfKind<Pong>(Drain(peers_.watchdog));
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].actor, "lister");
}

}  // namespace
}  // namespace freshet
