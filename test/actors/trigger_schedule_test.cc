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

}  // namespace
}  // namespace freshet
