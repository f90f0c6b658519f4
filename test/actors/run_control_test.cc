// RunControl driven by messages and a ManualClock: how signals, the planned
// restart, the end of the run and the drain bound become exit codes.
#include "actors/run_control.h"

#include <csignal>

#include <gtest/gtest.h>

#include "actors/actor_test_support.h"

namespace freshet {
namespace {

using std::chrono::seconds;
using testing::Drain;
using testing::OfKind;
using testing::Settle;

class RunControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rc_ = std::make_shared<RunControl>(io_, seconds(60), &clock_);
    rc_->Connect({&peers_.ticker, &peers_.board, [this](const std::string& why) { stopping_.push_back(why); },
                  [this] { ++exits_; }});
    rc_->Start();
  }
  void TearDown() override {
    rc_->mailbox().Close();
    Settle(io_);
  }
  void Send(ControlMsg m) {
    ASSERT_TRUE(Delivered(rc_->mailbox().Post(std::move(m))));
    Settle(io_);
  }

  asio::io_context io_;
  ManualClock clock_;
  testing::Peers peers_{io_, &clock_};
  std::shared_ptr<RunControl> rc_;
  std::vector<std::string> stopping_;
  int exits_ = 0;
};

TEST_F(RunControlTest, ASignalDrainsThenTheRunEndsCleanly) {
  Send(SignalReceived{SIGTERM});
  EXPECT_EQ(OfKind<DrainRequest>(Drain(peers_.ticker)).size(), 1u);
  ASSERT_EQ(stopping_.size(), 1u);
  EXPECT_EQ(stopping_[0], "draining (SIGTERM)");
  EXPECT_EQ(peers_.board.NotReady().value_or(""), "starting");  // not running in this test
  EXPECT_TRUE(peers_.board.Snapshot().draining);
  EXPECT_EQ(exits_, 0);
  Send(RunEnded{false});
  EXPECT_EQ(exits_, 1);
  EXPECT_EQ(rc_->exit_code(), kExitOk);
  EXPECT_EQ(rc_->end(), PipelineEnd::kStopped);
}

TEST_F(RunControlTest, TheDrainBoundRunsOnTheClock) {
  Send(SignalReceived{SIGINT});
  clock_.Advance(seconds(59));
  Settle(io_);
  EXPECT_EQ(exits_, 0);
  clock_.Advance(seconds(1));
  Settle(io_);
  EXPECT_EQ(exits_, 1);
  EXPECT_EQ(rc_->exit_code(), kExitDrainTimeout);
  EXPECT_EQ(rc_->end(), PipelineEnd::kFailed);
  Send(RunEnded{false});  // too late: the first end counts
  EXPECT_EQ(exits_, 1);
}

TEST_F(RunControlTest, APlannedRestartDrainsAndSaysSo) {
  Send(RestartDue{});
  ASSERT_EQ(stopping_.size(), 1u);
  EXPECT_NE(stopping_[0].find("planned restart"), std::string::npos);
  Send(RunEnded{false});
  EXPECT_EQ(rc_->exit_code(), kExitOk);
  EXPECT_EQ(rc_->end(), PipelineEnd::kPlannedRestart);
}

TEST_F(RunControlTest, AFailedLastBatchExitsThree) {
  Send(RunEnded{true});
  EXPECT_EQ(exits_, 1);
  EXPECT_EQ(rc_->exit_code(), kExitBatchFailed);
  EXPECT_EQ(rc_->end(), PipelineEnd::kFailed);
  EXPECT_TRUE(stopping_.empty());
}

}  // namespace
}  // namespace freshet
