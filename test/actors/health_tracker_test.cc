#include "actors/health_tracker.h"
#include "testing/times.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

WatchdogOptions Opts() {
  WatchdogOptions o;
  o.actor_stall = seconds(30);
  o.batch_stall = minutes(10);
  o.max_commit_age = minutes(15);
  o.max_uptime = std::chrono::hours(24);
  return o;
}

TEST(HealthTrackerTest, AnsweredHeartbeatsAreHealthy) {
  HealthTracker h(Opts(), kT0);
  h.Register("lister");
  h.OnPing("lister", 1, kT0);
  h.OnPong("lister", 1, kT0 + seconds(1));
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(1)).healthy);
}

TEST(HealthTrackerTest, UnansweredHeartbeatFlagsTheActor) {
  HealthTracker h(Opts(), kT0);
  h.OnPing("builder", 1, kT0);
  EXPECT_TRUE(h.Evaluate(kT0 + seconds(30)).healthy);  // exactly at the limit: still fine
  auto v = h.Evaluate(kT0 + seconds(31));
  EXPECT_FALSE(v.healthy);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_NE(v.problems[0].find("builder"), std::string::npos);
  h.OnPong("builder", 1, kT0 + seconds(32));
  EXPECT_TRUE(h.Evaluate(kT0 + seconds(33)).healthy);
}

TEST(HealthTrackerTest, StalledBatch) {
  HealthTracker h(Opts(), kT0);
  h.OnBatchStarted(7, kT0);
  auto v = h.Evaluate(kT0 + minutes(11));
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.problems[0].find("batch 7 stalled"), std::string::npos);
  h.OnBatchFinished(kT0 + minutes(11), true);
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(12)).healthy);
}

// The regression: a source with nothing new for hours, under systemd, was
// judged unhealthy (and restarted) every max_commit_age.
TEST(HealthTrackerTest, AQuietSourceIsNeverUnhealthy) {
  HealthTracker h(Opts(), kT0);
  h.OnInputWaiting(kT0 - minutes(3));
  h.OnBatchFinished(kT0 + seconds(2), true);
  for (int hour = 1; hour <= 48; hour++) {
    h.OnInputWaiting(std::nullopt);  // every trigger: idle, nothing eligible
    h.OnBatchFinished(kT0 + std::chrono::hours(hour), false);
    EXPECT_TRUE(h.Evaluate(kT0 + std::chrono::hours(hour)).healthy) << hour;
  }
  // Never a commit at all, and nothing to commit: healthy too.
  HealthTracker fresh(Opts(), kT0);
  fresh.OnInputWaiting(std::nullopt);
  EXPECT_TRUE(fresh.Evaluate(kT0 + std::chrono::hours(5)).healthy);
}

TEST(HealthTrackerTest, EligibleInputLeftUncommittedIsUnhealthy) {
  HealthTracker h(Opts(), kT0);
  h.OnBatchFinished(kT0, true);
  // A partition eligible at +1m; every batch on it fails.
  for (int m = 1; m <= 20; m++) {
    h.OnInputWaiting(kT0 + minutes(1));
    h.OnBatchFinished(kT0 + minutes(m), false);
  }
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(16)).healthy);  // 15m after it became eligible: at the limit
  auto v = h.Evaluate(kT0 + minutes(16) + seconds(1));
  EXPECT_FALSE(v.healthy);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_NE(v.problems[0].find("eligible input waiting since"), std::string::npos) << v.problems[0];
  EXPECT_NE(v.problems[0].find("last commit"), std::string::npos) << v.problems[0];
  // It commits: healthy again, and nothing waits afterwards.
  h.OnBatchFinished(kT0 + minutes(21), true);
  h.OnInputWaiting(std::nullopt);
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(22)).healthy);
  EXPECT_TRUE(h.Evaluate(kT0 + std::chrono::hours(3)).healthy);
}

TEST(HealthTrackerTest, ABacklogGetsMaxCommitAgeFromStartAndFromEachCommit) {
  // Restarted behind a day of input: eligible long ago, but the clock for
  // it starts with this run.
  HealthTracker h(Opts(), kT0);
  h.OnInputWaiting(kT0 - std::chrono::hours(24));
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(15)).healthy);
  // Sequential catch-up: a commit every 10 minutes, input still waiting.
  for (int m = 10; m <= 120; m += 10) {
    h.OnBatchFinished(kT0 + minutes(m), true);
    h.OnInputWaiting(kT0 - std::chrono::hours(24) + minutes(m));
    EXPECT_TRUE(h.Evaluate(kT0 + minutes(m + 9)).healthy) << m;
  }
  // The catch-up stops committing.
  auto v = h.Evaluate(kT0 + minutes(120 + 16));
  EXPECT_FALSE(v.healthy);
  HealthTracker never(Opts(), kT0);
  never.OnInputWaiting(kT0 - std::chrono::hours(24));
  v = never.Evaluate(kT0 + minutes(16));
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.problems[0].find("no commit since start"), std::string::npos) << v.problems[0];
}

TEST(HealthTrackerTest, WaitingKeepsTheEarliestTimeUntilNothingWaits) {
  HealthTracker h(Opts(), kT0);
  h.OnInputWaiting(kT0 + minutes(1));  // blocked: reported with the listing time each trigger
  h.OnInputWaiting(kT0 + minutes(2));
  h.OnInputWaiting(kT0 + minutes(3));
  EXPECT_FALSE(h.Evaluate(kT0 + minutes(17)).healthy);
  h.OnInputWaiting(std::nullopt);
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(17)).healthy);
}

TEST(HealthTrackerTest, PlannedRestartAfterMaxUptime) {
  HealthTracker h(Opts(), kT0);
  EXPECT_FALSE(h.Evaluate(kT0 + std::chrono::hours(23)).restart_due);
  EXPECT_TRUE(h.Evaluate(kT0 + std::chrono::hours(24)).restart_due);
}

}  // namespace
}  // namespace freshet
