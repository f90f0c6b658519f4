// The Planner driven by messages: a listing becomes a plan for the Builder
// or an idle end, judged at the listing's own time, against the checkpoint
// the Committer last announced.
#include "actors/planner.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;
using testing::Drain;
using testing::OfKind;
using testing::Settle;


PartitionListing Partition(TimePoint t) {
  PartitionListing p;
  p.time = t;
  p.objects.push_back({"updates/" + FormatRfc3339(t) + "/a.ndjson", 100, "etag-" + FormatRfc3339(t)});
  return p;
}

class PlannerTest : public ::testing::Test {
 protected:
  // Closing the mailbox ends the receive loop, which holds the actor.
  void TearDown() override {
    for (auto& close : closers_) close();
    testing::Settle(io_);
  }
  std::shared_ptr<Planner> Make(const Checkpoint& cp = Checkpoint{}) {
    PlannerConfig pc;
    pc.salt = "salt";
    auto p = std::make_shared<Planner>(io_, pc, cp);
    p->Connect({&peers_.builder, &peers_.watchdog, BatchRoute{&peers_.board, &peers_.watchdog, &peers_.ticker}});
    p->Start();
    closers_.push_back([p] { p->mailbox().Close(); });
    return p;
  }
  void Send(Planner& p, TimePoint listed_at, std::vector<PartitionListing> partitions) {
    PlanRequest req;
    req.progress.trigger_time = listed_at;
    req.listing.listed_at = listed_at;
    req.listing.set_partitions(std::move(partitions));
    ASSERT_TRUE(Delivered(p.mailbox().Post(std::move(req))));
    Settle(io_);
  }

  asio::io_context io_;
  ManualClock clock_{kT0};
  testing::Peers peers_{io_, &clock_};
  std::vector<std::function<void()>> closers_;  // last: the actors go first
};

TEST_F(PlannerTest, AnEligiblePartitionBecomesABuildRequest) {
  auto p = Make();
  Send(*p, kT0 + minutes(7), {Partition(kT0)});  // 16:00 + 5m + 2m grace <= 16:07
  auto builds = OfKind<BuildRequest>(Drain(peers_.builder));
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].plan.batch_id, 1u);
  EXPECT_EQ(builds[0].plan.target, kT0);
  EXPECT_EQ(builds[0].progress.batch_id, 1u);
  EXPECT_EQ(builds[0].progress.stages_reached, 2);
  auto to_watchdog = Drain(peers_.watchdog);
  auto started = OfKind<BatchStarted>(to_watchdog);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].batch_id, 1u);
  auto waiting = OfKind<InputWaiting>(to_watchdog);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].since, kT0 + minutes(7)) << "the partition's end + grace";
  EXPECT_TRUE(Drain(peers_.ticker).empty()) << "the batch goes on: nothing ends yet";
  ASSERT_TRUE(peers_.board.Snapshot().in_flight.has_value());
  EXPECT_EQ(peers_.board.Snapshot().in_flight->batch_id, 1u);
}

TEST_F(PlannerTest, EligibilityIsJudgedAtTheListingsTimeNotLater) {
  auto p = Make();
  // Listed at 16:06, one minute before 16:00 became eligible; the clock has
  // moved on since (the Planner has none: only the listing's time counts).
  clock_.Set(kT0 + minutes(30));
  Send(*p, kT0 + minutes(6), {Partition(kT0)});
  EXPECT_TRUE(Drain(peers_.builder).empty());
  auto finished = OfKind<BatchFinished>(Drain(peers_.ticker));
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_FALSE(finished[0].built);
  EXPECT_FALSE(finished[0].failed);
  StatusSnapshot s = peers_.board.Snapshot();
  ASSERT_EQ(s.not_eligible.size(), 1u);
  EXPECT_EQ(s.not_eligible[0].eligible_at, kT0 + minutes(7));
  EXPECT_FALSE(s.idle_reason.empty());
  EXPECT_TRUE(peers_.board.RecentBatches().empty()) << "idle triggers are not batch reports";
  auto waiting = OfKind<InputWaiting>(Drain(peers_.watchdog));
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_FALSE(waiting[0].since.has_value()) << "nothing eligible waits";
}

TEST_F(PlannerTest, PlansAgainstTheCheckpointTheCommitterAnnounced) {
  auto p = Make();
  Checkpoint after;
  after.watermark = kT0;
  after.next_batch_id = 2;
  ASSERT_TRUE(Delivered(p->mailbox().Post(CheckpointAdvanced{after})));
  // The same partition again: nothing newer than the watermark.
  Send(*p, kT0 + minutes(8), {Partition(kT0)});
  EXPECT_TRUE(Drain(peers_.builder).empty());
  EXPECT_EQ(OfKind<BatchFinished>(Drain(peers_.ticker)).size(), 1u);
  // A newer one gets batch id 2.
  Send(*p, kT0 + minutes(13), {Partition(kT0), Partition(kT0 + minutes(5))});
  auto builds = OfKind<BuildRequest>(Drain(peers_.builder));
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].plan.batch_id, 2u);
  EXPECT_EQ(builds[0].plan.previous_watermark, kT0);
}

TEST_F(PlannerTest, AnswersHeartbeats) {
  auto p = Make();
  ASSERT_TRUE(Delivered(p->mailbox().Post(Ping{5})));
  Settle(io_);
  auto pongs = OfKind<Pong>(Drain(peers_.watchdog));
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].actor, "planner");
  EXPECT_EQ(pongs[0].seq, 5u);
}

}  // namespace
}  // namespace freshet
