// The Ticker driven by messages and a ManualClock: deadlines on the Clock,
// coalescing while a batch is in flight, the hybrid rule's probes, drain
// and the end of once / available_now runs.
#include "actors/ticker.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::seconds;
using testing::Drain;
using testing::OfKind;
using testing::Settle;


class TickerTest : public ::testing::Test {
 protected:
  // Closing the mailbox ends the receive loop, which holds the actor.
  void TearDown() override {
    for (auto& close : closers_) close();
    testing::Settle(io_);
  }
  std::shared_ptr<Ticker> Make(Ticker::Config c) {
    auto t = std::make_shared<Ticker>(io_, c, &clock_);
    t->Connect({&peers_.lister, &peers_.control, &peers_.watchdog, &peers_.board});
    t->Start();
    closers_.push_back([t] { t->mailbox().Close(); });
    Settle(io_);
    return t;
  }
  // The ListNow requests sent since the last call.
  std::vector<ListNow> Lists() { return OfKind<ListNow>(Drain(peers_.lister)); }
  void Finish(Ticker& t, bool built, bool failed = false) {
    ASSERT_TRUE(Delivered(t.mailbox().Post(BatchFinished{1, built, failed})));
    Settle(io_);
  }
  void AdvanceTo(TimePoint when) {
    clock_.Set(when);
    Settle(io_);
  }

  asio::io_context io_;
  ManualClock clock_{kT0};
  testing::Peers peers_{io_, &clock_};
  std::vector<std::function<void()>> closers_;  // last: the actors go first
};

TEST_F(TickerTest, IntervalFiresAtStartThenOnAbsoluteDeadlines) {
  auto t = Make({TriggerMode::kInterval, seconds(30)});
  auto lists = Lists();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_FALSE(lists[0].probe);
  EXPECT_EQ(lists[0].trigger_time, kT0);
  Finish(*t, true);
  AdvanceTo(kT0 + seconds(29));
  EXPECT_TRUE(Lists().empty());
  // A late wake-up (31 s) fires once and keeps the grid: next at 60 s.
  AdvanceTo(kT0 + seconds(31));
  ASSERT_EQ(Lists().size(), 1u);
  Finish(*t, true);
  AdvanceTo(kT0 + seconds(59));
  EXPECT_TRUE(Lists().empty());
  AdvanceTo(kT0 + seconds(60));
  EXPECT_EQ(Lists().size(), 1u);
  EXPECT_EQ(peers_.board.Snapshot().fired, 3u);
}

TEST_F(TickerTest, DeadlinesDuringABatchCoalesceAndAreCounted) {
  auto t = Make({TriggerMode::kInterval, seconds(10)});
  ASSERT_EQ(Lists().size(), 1u);
  AdvanceTo(kT0 + seconds(10));
  AdvanceTo(kT0 + seconds(20));
  AdvanceTo(kT0 + seconds(35));  // 30 s passed during the same batch
  EXPECT_TRUE(Lists().empty()) << "deadlines during a batch must not queue triggers";
  EXPECT_EQ(peers_.board.Snapshot().coalesced, 3u);
  Finish(*t, true);
  EXPECT_TRUE(Lists().empty()) << "a finished batch waits for the next deadline";
  AdvanceTo(kT0 + seconds(40));
  EXPECT_EQ(Lists().size(), 1u);
}

// The demo: 15 s partitions, 3 s grace, 30 s interval. The ListNow goes
// out at the slot end + grace on the Clock, and /status shows the next one.
TEST_F(TickerTest, FiresAtEachPartitionsEligibility) {
  Ticker::Config c{TriggerMode::kInterval, seconds(30)};
  c.eligibility = EligibilityGrid{seconds(15), seconds(3)};
  clock_.Set(kT0 + seconds(1));
  auto t = Make(c);
  ASSERT_EQ(Lists().size(), 1u);
  Finish(*t, false);
  EXPECT_EQ(peers_.board.Snapshot().next_eligible, kT0 + seconds(3));
  AdvanceTo(kT0 + seconds(3) - std::chrono::milliseconds(1));
  EXPECT_TRUE(Lists().empty());
  AdvanceTo(kT0 + seconds(3));
  auto lists = Lists();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].trigger_time, kT0 + seconds(3));
  // Eligible again at 18 s while this batch still runs: one more at its end.
  AdvanceTo(kT0 + seconds(18));
  EXPECT_TRUE(Lists().empty());
  Finish(*t, true);
  ASSERT_EQ(Lists().size(), 1u);
  auto snap = peers_.board.Snapshot();
  EXPECT_EQ(snap.eligible_fires, 2u);
  EXPECT_EQ(snap.fired, 3u);
  EXPECT_EQ(snap.next_eligible, kT0 + seconds(33));
}

TEST_F(TickerTest, AvailableNowRunsUntilABatchBuildsNothing) {
  auto t = Make({TriggerMode::kAvailableNow, seconds(30)});
  ASSERT_EQ(Lists().size(), 1u);
  Finish(*t, true);
  ASSERT_EQ(Lists().size(), 1u) << "built something: look again at once";
  Finish(*t, false);
  EXPECT_TRUE(Lists().empty());
  auto ended = OfKind<RunEnded>(Drain(peers_.control));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].failed);
}

TEST_F(TickerTest, OnceEndsFailedWhenItsBatchFailed) {
  auto t = Make({TriggerMode::kOnce, seconds(30)});
  ASSERT_EQ(Lists().size(), 1u);
  Finish(*t, false, /*failed=*/true);
  auto ended = OfKind<RunEnded>(Drain(peers_.control));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].failed);
}

TEST_F(TickerTest, DrainWaitsForTheBatchInFlightThenEndsTheRun) {
  auto t = Make({TriggerMode::kInterval, seconds(10)});
  ASSERT_EQ(Lists().size(), 1u);
  ASSERT_TRUE(Delivered(t->mailbox().Post(DrainRequest{})));
  Settle(io_);
  EXPECT_TRUE(Drain(peers_.control).empty()) << "a batch is still in flight";
  AdvanceTo(kT0 + seconds(30));
  EXPECT_TRUE(Lists().empty()) << "draining: no new triggers";
  Finish(*t, true);
  EXPECT_EQ(OfKind<RunEnded>(Drain(peers_.control)).size(), 1u);
  AdvanceTo(kT0 + seconds(60));
  EXPECT_TRUE(Lists().empty());
}

TEST_F(TickerTest, HybridRuleProbesAndFiresEarlyOnPendingBytes) {
  auto t = Make({TriggerMode::kInterval, seconds(60), /*pending_bytes_threshold=*/1000, seconds(5)});
  ASSERT_EQ(Lists().size(), 1u);
  Finish(*t, true);
  AdvanceTo(kT0 + seconds(5));
  auto probes = Lists();
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_TRUE(probes[0].probe);
  // Below the threshold: nothing; the next probe five seconds later.
  ASSERT_TRUE(Delivered(t->mailbox().Post(PendingMeasured{999})));
  Settle(io_);
  EXPECT_TRUE(Lists().empty());
  AdvanceTo(kT0 + seconds(10));
  ASSERT_EQ(Lists().size(), 1u);
  ASSERT_TRUE(Delivered(t->mailbox().Post(PendingMeasured{1000})));
  Settle(io_);
  auto fired = Lists();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_FALSE(fired[0].probe);
  EXPECT_EQ(peers_.board.Snapshot().fired, 2u);
  // No probe while that batch is in flight.
  AdvanceTo(kT0 + seconds(15));
  EXPECT_TRUE(Lists().empty());
}

TEST_F(TickerTest, AnswersHeartbeatsAndTimerWakeUpsCoalesce) {
  auto t = Make({TriggerMode::kInterval, seconds(10)});
  ASSERT_TRUE(Delivered(t->mailbox().Post(Ping{7})));
  // Two wake-ups queued before the Ticker runs are one.
  EXPECT_EQ(t->mailbox().Post(DeadlineDue{}), Delivery::kQueued);
  EXPECT_EQ(t->mailbox().Post(DeadlineDue{}), Delivery::kCoalesced);
  Settle(io_);
  auto pongs = OfKind<Pong>(Drain(peers_.watchdog));
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].actor, "ticker");
  EXPECT_EQ(pongs[0].seq, 7u);
  EXPECT_EQ(t->mailbox().coalesced(), 1u);
}

}  // namespace
}  // namespace freshet
