// ClockTimer: fires when the Clock reaches the deadline, not before; a
// re-Arm replaces the deadline; Cancel and destruction never fire.
#include "actors/clock_timer.h"

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::seconds;
using testing::Settle;


class ClockTimerTest : public ::testing::Test {
 protected:
  void Arm(ClockTimer& t, TimePoint when, int id) {
    asio::post(strand_, [&t, when, id, this] { t.Arm(when, [this, id] { fired_.push_back(id); }); });
    Settle(io_);
  }
  void AdvanceTo(TimePoint t) {
    clock_.Set(t);
    Settle(io_);
  }

  asio::io_context io_;
  Strand strand_ = asio::make_strand(io_);
  ManualClock clock_{kT0};
  std::vector<int> fired_;
};

TEST_F(ClockTimerTest, FiresWhenTheClockReachesTheDeadline) {
  ClockTimer t(strand_, &clock_);
  Arm(t, kT0 + seconds(10), 1);
  AdvanceTo(kT0 + seconds(9));
  EXPECT_TRUE(fired_.empty());
  AdvanceTo(kT0 + seconds(10));
  EXPECT_EQ(fired_, std::vector<int>{1});
  AdvanceTo(kT0 + seconds(100));
  EXPECT_EQ(fired_, std::vector<int>{1}) << "once per Arm";
}

TEST_F(ClockTimerTest, APassedDeadlineFiresAfterArmReturns) {
  ClockTimer t(strand_, &clock_);
  Arm(t, kT0 - seconds(1), 7);
  EXPECT_EQ(fired_, std::vector<int>{7});
}

TEST_F(ClockTimerTest, ReArmingReplacesAndCancelSilences) {
  ClockTimer t(strand_, &clock_);
  Arm(t, kT0 + seconds(10), 1);
  Arm(t, kT0 + seconds(20), 2);
  AdvanceTo(kT0 + seconds(15));
  EXPECT_TRUE(fired_.empty());
  AdvanceTo(kT0 + seconds(20));
  EXPECT_EQ(fired_, std::vector<int>{2});
  Arm(t, kT0 + seconds(30), 3);
  asio::post(strand_, [&t] { t.Cancel(); });
  Settle(io_);
  AdvanceTo(kT0 + seconds(40));
  EXPECT_EQ(fired_, std::vector<int>{2});
}

TEST_F(ClockTimerTest, ADestroyedTimerNeverFires) {
  {
    ClockTimer t(strand_, &clock_);
    Arm(t, kT0 + seconds(10), 1);
  }
  AdvanceTo(kT0 + seconds(10));
  EXPECT_TRUE(fired_.empty());
}

TEST_F(ClockTimerTest, OnTheSystemClockItWaitsRealTime) {
  ClockTimer t(strand_, SystemClock::Instance());
  const TimePoint start = SystemClock::Instance()->Now();
  Arm(t, start + std::chrono::milliseconds(30), 1);
  ASSERT_TRUE(testing::RunUntil(io_, [&] { return !fired_.empty(); }, seconds(10)));
  EXPECT_GE(SystemClock::Instance()->Now(), start + std::chrono::milliseconds(30));
}

}  // namespace
}  // namespace freshet
