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

TEST(HealthTrackerTest, StalledBatchAndOldCommit) {
  HealthTracker h(Opts(), kT0);
  h.OnBatchStarted(7, kT0);
  auto v = h.Evaluate(kT0 + minutes(11));
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.problems[0].find("batch 7 stalled"), std::string::npos);
  h.OnBatchFinished(kT0 + minutes(11), true);
  EXPECT_TRUE(h.Evaluate(kT0 + minutes(12)).healthy);
  v = h.Evaluate(kT0 + minutes(27));
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.problems[0].find("last commit"), std::string::npos);
}

TEST(HealthTrackerTest, PlannedRestartAfterMaxUptime) {
  HealthTracker h(Opts(), kT0);
  EXPECT_FALSE(h.Evaluate(kT0 + std::chrono::hours(23)).restart_due);
  EXPECT_TRUE(h.Evaluate(kT0 + std::chrono::hours(24)).restart_due);
}

}  // namespace
}  // namespace freshet
