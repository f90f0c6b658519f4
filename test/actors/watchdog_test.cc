// The Watchdog driven by messages and a ManualClock: heartbeat rounds on
// the Clock, verdicts on the status board (an actor that stops answering,
// a stalled batch), and the planned restart after max_uptime.
#include "actors/watchdog.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::Drain;
using testing::OfKind;
using testing::Settle;


class WatchdogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (w_) w_->mailbox().Close();
    Settle(io_);
  }
  void Make(WatchdogOptions o) {
    w_ = std::make_shared<Watchdog>(io_, o, &clock_);
    // Two targets whose pings land in test mailboxes: the test answers.
    w_->Connect({{"lister", [this](uint64_t seq) { return peers_.lister.Post(Ping{seq}); }},
                 {"planner", [this](uint64_t seq) { return peers_.planner.Post(Ping{seq}); }}},
                {&peers_.control, &peers_.board});
    w_->Start();
    Settle(io_);
  }
  void Advance(Duration d) {
    clock_.Advance(d);
    Settle(io_);
  }
  // The actor behind `box` answers every ping waiting there.
  template <typename Msg>
  void Answer(const std::string& actor, Mailbox<Msg>& box) {
    for (const Ping& p : OfKind<Ping>(Drain(box))) ASSERT_TRUE(Delivered(w_->mailbox().Post(Pong{actor, p.seq})));
    Settle(io_);
  }

  asio::io_context io_;
  ManualClock clock_{kT0};
  testing::Peers peers_{io_, &clock_};
  std::shared_ptr<Watchdog> w_;
};

TEST_F(WatchdogTest, HeartbeatsRunOnTheClockAndASilentActorTurnsHealthRed) {
  WatchdogOptions o;
  o.heartbeat_interval = seconds(5);
  o.actor_stall = seconds(30);
  o.max_commit_age = Duration(0);
  Make(o);
  EXPECT_TRUE(Drain(peers_.lister).empty()) << "the first round is one interval away";
  Advance(seconds(5));
  auto pings = OfKind<Ping>(Drain(peers_.lister));
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].seq, 1u);
  Answer("planner", peers_.planner);
  // The lister never answers; the planner always does.
  for (int i = 0; i < 7; ++i) {
    Advance(seconds(5));
    Answer("planner", peers_.planner);
  }
  HealthVerdict v = peers_.board.Health();
  EXPECT_FALSE(v.healthy);
  ASSERT_EQ(v.problems.size(), 1u) << v.problems[0];
  EXPECT_NE(v.problems[0].find("actor lister has not answered"), std::string::npos) << v.problems[0];
  // It answers (every ping so far): healthy again at the next round.
  Answer("lister", peers_.lister);
  Advance(seconds(5));
  Answer("lister", peers_.lister);
  Answer("planner", peers_.planner);
  EXPECT_TRUE(peers_.board.Health().healthy);
}

TEST_F(WatchdogTest, AStalledBatchIsReportedUntilItEnds) {
  WatchdogOptions o;
  o.heartbeat_interval = seconds(5);
  o.batch_stall = minutes(10);
  o.max_commit_age = Duration(0);
  Make(o);
  ASSERT_TRUE(Delivered(w_->mailbox().Post(BatchStarted{4})));
  Settle(io_);
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(minutes(6));
    Settle(io_);
    Answer("lister", peers_.lister);
    Answer("planner", peers_.planner);
  }
  HealthVerdict v = peers_.board.Health();
  EXPECT_FALSE(v.healthy);
  ASSERT_FALSE(v.problems.empty());
  EXPECT_NE(v.problems[0].find("batch 4 stalled"), std::string::npos) << v.problems[0];
  ASSERT_TRUE(Delivered(w_->mailbox().Post(BatchFinished{4, true, false})));
  Advance(seconds(5));
  EXPECT_TRUE(peers_.board.Health().healthy);
}

// The Planner's InputWaiting drives the commit-age rule: quiet is healthy
// however long it lasts; input left uncommitted past max_commit_age is not.
TEST_F(WatchdogTest, OnlyWaitingInputAgesTowardsUnhealthy) {
  WatchdogOptions o;
  o.heartbeat_interval = minutes(1);
  o.actor_stall = minutes(10);
  o.max_commit_age = minutes(15);
  Make(o);
  auto round = [&] {
    Advance(minutes(1));
    Answer("lister", peers_.lister);
    Answer("planner", peers_.planner);
  };
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(Delivered(w_->mailbox().Post(InputWaiting{std::nullopt})));
    round();
  }
  EXPECT_TRUE(peers_.board.Health().healthy) << "an hour without input or commits";
  const TimePoint eligible = clock_.Now();
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(Delivered(w_->mailbox().Post(InputWaiting{eligible})));
    ASSERT_TRUE(Delivered(w_->mailbox().Post(BatchFinished{uint64_t(i + 1), false, true})));
    round();
  }
  HealthVerdict v = peers_.board.Health();
  EXPECT_FALSE(v.healthy);
  ASSERT_FALSE(v.problems.empty());
  EXPECT_NE(v.problems[0].find("eligible input waiting since"), std::string::npos) << v.problems[0];
}

TEST_F(WatchdogTest, MaxUptimeAsksForOnePlannedRestart) {
  WatchdogOptions o;
  o.heartbeat_interval = seconds(5);
  o.max_uptime = minutes(1);
  o.max_commit_age = Duration(0);
  Make(o);
  Advance(seconds(55));
  EXPECT_TRUE(Drain(peers_.control).empty());
  Advance(seconds(5));
  Advance(seconds(5));
  Advance(seconds(5));
  EXPECT_EQ(OfKind<RestartDue>(Drain(peers_.control)).size(), 1u);
}

}  // namespace
}  // namespace freshet
