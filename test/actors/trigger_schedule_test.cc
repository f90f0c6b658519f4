#include "actors/trigger_schedule.h"

#include <gtest/gtest.h>

#include "base/clock.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::seconds;

TEST(TriggerScheduleTest, IntervalUsesAbsoluteDeadlinesWithoutDrift) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(30));
  auto a = s.Start(kT0);
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(30));
  s.OnBatchFinished(kT0 + seconds(4), true, false);
  // The timer fires 700ms late: the next deadline stays on the 30s grid.
  a = s.OnDeadline(kT0 + seconds(30) + std::chrono::milliseconds(700));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(60));
  EXPECT_EQ(s.coalesced(), 0u);
}

TEST(TriggerScheduleTest, TicksDuringABatchCoalesceAndAreCounted) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(10));
  s.Start(kT0);
  auto a = s.OnDeadline(kT0 + seconds(10));
  EXPECT_FALSE(a.fire);
  EXPECT_EQ(s.coalesced(), 1u);
  // A wake-up 25s late (slots 20s and 30s passed): 2 more coalesced, one fire.
  s.OnBatchFinished(kT0 + seconds(12), true, false);
  a = s.OnDeadline(kT0 + seconds(45));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(50));
  EXPECT_EQ(s.coalesced(), 3u);
  EXPECT_EQ(s.fired(), 2u);
}

TEST(TriggerScheduleTest, EarlyWakeupRearmsSameDeadline) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(10));
  s.Start(kT0);
  s.OnBatchFinished(kT0, true, false);
  auto a = s.OnDeadline(kT0 + seconds(9));
  EXPECT_FALSE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(10));
}

TEST(TriggerScheduleTest, ContinuousFiresOnEveryFinish) {
  TriggerSchedule s(TriggerMode::kContinuous, seconds(10));
  EXPECT_TRUE(s.Start(kT0).fire);
  EXPECT_FALSE(s.Start(kT0).arm.has_value());
  EXPECT_TRUE(s.OnBatchFinished(kT0, false, false).fire);
  EXPECT_TRUE(s.OnBatchFinished(kT0, false, true).fire);
}

TEST(TriggerScheduleTest, OnceExitsAfterOneBatch) {
  TriggerSchedule s(TriggerMode::kOnce, seconds(10));
  EXPECT_TRUE(s.Start(kT0).fire);
  auto a = s.OnBatchFinished(kT0, true, false);
  EXPECT_TRUE(a.exit);
  EXPECT_FALSE(a.failed);
}

TEST(TriggerScheduleTest, AvailableNowRunsUntilNothingIsBuilt) {
  TriggerSchedule s(TriggerMode::kAvailableNow, seconds(10));
  EXPECT_TRUE(s.Start(kT0).fire);
  EXPECT_TRUE(s.OnBatchFinished(kT0, true, false).fire);
  EXPECT_TRUE(s.OnBatchFinished(kT0, true, false).fire);
  auto a = s.OnBatchFinished(kT0, false, false);
  EXPECT_TRUE(a.exit);
  EXPECT_FALSE(a.failed);
  EXPECT_EQ(s.fired(), 3u);
}

TEST(TriggerScheduleTest, AvailableNowStopsOnFailure) {
  TriggerSchedule s(TriggerMode::kAvailableNow, seconds(10));
  s.Start(kT0);
  auto a = s.OnBatchFinished(kT0, false, true);
  EXPECT_TRUE(a.exit);
  EXPECT_TRUE(a.failed);
}

TEST(TriggerScheduleTest, DrainWaitsForTheBatchInFlight) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(10));
  s.Start(kT0);
  EXPECT_FALSE(s.Drain().exit);
  EXPECT_FALSE(s.OnDeadline(kT0 + seconds(10)).fire);
  EXPECT_TRUE(s.OnBatchFinished(kT0 + seconds(11), true, false).exit);

  TriggerSchedule idle(TriggerMode::kInterval, seconds(10));
  idle.Start(kT0);
  idle.OnBatchFinished(kT0, false, false);
  EXPECT_TRUE(idle.Drain().exit);
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

TEST(TriggerScheduleTest, HybridFiresEarlyWhenPendingBytesReachTheThreshold) {
  TriggerSchedule s(TriggerMode::kInterval, std::chrono::seconds(60), 1000);
  s.Start(kT0);
  EXPECT_FALSE(s.OnProbeTimer().probe);  // the first batch is still running
  s.OnBatchFinished(kT0 + std::chrono::seconds(2), true, false);
  EXPECT_TRUE(s.OnProbeTimer().probe);
  EXPECT_FALSE(s.OnProbeTimer().probe);  // one probe at a time
  EXPECT_FALSE(s.OnProbeResult(999).fire);
  EXPECT_TRUE(s.OnProbeTimer().probe);
  auto a = s.OnProbeResult(1000);
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(s.early_fires(), 1u);
  EXPECT_EQ(*s.next_deadline(), kT0 + std::chrono::seconds(60));  // the grid is unchanged
}

TEST(TriggerScheduleTest, DeadlineDuringAProbeFiresWhenItReturns) {
  TriggerSchedule s(TriggerMode::kInterval, std::chrono::seconds(60), 1000);
  s.Start(kT0);
  s.OnBatchFinished(kT0, true, false);
  ASSERT_TRUE(s.OnProbeTimer().probe);
  auto a = s.OnDeadline(kT0 + std::chrono::seconds(60));
  EXPECT_FALSE(a.fire);
  EXPECT_EQ(s.coalesced(), 0u);
  EXPECT_TRUE(s.OnProbeResult(0).fire);
  EXPECT_EQ(s.early_fires(), 0u);
}

TEST(TriggerScheduleTest, NoProbesWithoutThresholdOrOutsideIntervalMode) {
  TriggerSchedule off(TriggerMode::kInterval, std::chrono::seconds(60), 0);
  off.Start(kT0);
  off.OnBatchFinished(kT0, true, false);
  EXPECT_FALSE(off.OnProbeTimer().probe);
  TriggerSchedule cont(TriggerMode::kContinuous, std::chrono::seconds(60), 1000);
  cont.Start(kT0);
  cont.OnBatchFinished(kT0, true, false);
  EXPECT_FALSE(cont.OnProbeTimer().probe);
}


// The demo's numbers: 15 s partitions, 3 s grace, a 30 s trigger interval.
const EligibilityGrid kDemoGrid{seconds(15), seconds(3)};

TEST(TriggerScheduleTest, EligibilityGridIsSlotEndPlusGraceSinceTheEpoch) {
  const EligibilityGrid g{std::chrono::minutes(5), std::chrono::minutes(2)};
  ASSERT_EQ((kT0 - TimePoint{}) % std::chrono::minutes(5), Duration(0));  // kT0 is a slot boundary
  EXPECT_EQ(g.NextAfter(kT0), kT0 + std::chrono::minutes(2));
  EXPECT_EQ(g.NextAfter(kT0 + std::chrono::minutes(2) - std::chrono::milliseconds(1)), kT0 + std::chrono::minutes(2));
  EXPECT_EQ(g.NextAfter(kT0 + std::chrono::minutes(2)), kT0 + std::chrono::minutes(7));  // strictly after
  EXPECT_EQ(g.NextAfter(kT0 + std::chrono::minutes(6)), kT0 + std::chrono::minutes(7));
  // Before 1970 the grid floors the same way.
  EXPECT_EQ(g.NextAfter(TimePoint{} - std::chrono::minutes(4)), TimePoint{} - std::chrono::minutes(3));
  const EligibilityGrid no_grace{seconds(15), Duration(0)};
  EXPECT_EQ(no_grace.NextAfter(kT0), kT0 + seconds(15));
}

TEST(TriggerScheduleTest, FiresWhenAPartitionBecomesEligible) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(30), 0, kDemoGrid);
  auto a = s.Start(kT0 + seconds(1));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(3));  // the slot that ended at kT0, plus grace
  s.OnBatchFinished(kT0 + seconds(2), false, false);
  a = s.OnDeadline(kT0 + seconds(3));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(18));
  EXPECT_EQ(s.eligible_fires(), 1u);
  s.OnBatchFinished(kT0 + seconds(4), true, false);
  a = s.OnDeadline(kT0 + seconds(18));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(31));  // the interval deadline comes next
  s.OnBatchFinished(kT0 + seconds(19), true, false);
  a = s.OnDeadline(kT0 + seconds(31));
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(*a.arm, kT0 + seconds(33));
  EXPECT_EQ(s.eligible_fires(), 2u);
  EXPECT_EQ(s.fired(), 4u);
  EXPECT_EQ(s.coalesced(), 0u);
  EXPECT_EQ(s.next_eligible(), kT0 + seconds(33));
}

TEST(TriggerScheduleTest, EligibleDuringABatchFiresOnceWhenItEnds) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(30), 0, kDemoGrid);
  s.Start(kT0 + seconds(1));
  // A long batch: two partitions become eligible (3 s, 18 s) while it runs.
  EXPECT_FALSE(s.OnDeadline(kT0 + seconds(3)).fire);
  EXPECT_FALSE(s.OnDeadline(kT0 + seconds(18)).fire);
  EXPECT_EQ(s.coalesced(), 2u);
  auto a = s.OnBatchFinished(kT0 + seconds(20), true, false);
  EXPECT_TRUE(a.fire);
  EXPECT_EQ(s.eligible_fires(), 1u);
  // That batch listed both; nothing more is owed when it ends.
  EXPECT_FALSE(s.OnBatchFinished(kT0 + seconds(21), true, false).fire);
  EXPECT_EQ(s.fired(), 2u);
}

TEST(TriggerScheduleTest, IntervalTickDuringABatchStillOnlyCoalesces) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(10), 0, EligibilityGrid{std::chrono::minutes(5), seconds(0)});
  s.Start(kT0 + seconds(1));
  EXPECT_FALSE(s.OnDeadline(kT0 + seconds(11)).fire);
  EXPECT_FALSE(s.OnBatchFinished(kT0 + seconds(12), true, false).fire);  // no partition became eligible
}

TEST(TriggerScheduleTest, EligibleDuringAProbeFiresWhenItReturns) {
  TriggerSchedule s(TriggerMode::kInterval, seconds(30), 1000, kDemoGrid);
  s.Start(kT0 + seconds(1));
  s.OnBatchFinished(kT0 + seconds(2), false, false);
  EXPECT_TRUE(s.OnProbeTimer().probe);
  EXPECT_FALSE(s.OnDeadline(kT0 + seconds(3)).fire);
  EXPECT_TRUE(s.OnProbeResult(0).fire);
  EXPECT_EQ(s.eligible_fires(), 1u);
  EXPECT_EQ(s.early_fires(), 0u);
}

TEST(TriggerScheduleTest, GridOnlyInIntervalModeAndNotWhileDraining) {
  TriggerSchedule cont(TriggerMode::kContinuous, seconds(30), 0, kDemoGrid);
  EXPECT_FALSE(cont.Start(kT0).arm.has_value());
  EXPECT_FALSE(cont.next_eligible().has_value());
  TriggerSchedule s(TriggerMode::kInterval, seconds(30), 0, kDemoGrid);
  s.Start(kT0 + seconds(1));
  s.OnDeadline(kT0 + seconds(3));  // owed at batch end
  s.Drain();
  auto a = s.OnBatchFinished(kT0 + seconds(4), true, false);
  EXPECT_FALSE(a.fire);
  EXPECT_TRUE(a.exit);
  EXPECT_FALSE(s.next_eligible().has_value());
}

}  // namespace
}  // namespace freshet
