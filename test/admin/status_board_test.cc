// The status board fed with progress events as the actors send them, read
// as an operator would (/status JSON, readiness, health, systemd's STATUS
// line, /metrics), without a daemon.
#include "admin/status_board.h"
#include "testing/times.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace freshet {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;


BatchProgress Report(uint64_t id, BatchOutcome outcome, std::string message = "") {
  BatchProgress p;
  p.batch_id = id;
  p.trigger_time = kT0;
  p.outcome = outcome;
  p.message = std::move(message);
  p.stages_reached = outcome == BatchOutcome::kCommitted ? static_cast<int>(Stage::kCount) : 2;
  return p;
}

class StatusBoardTest : public ::testing::Test {
 protected:
  BoardConfig Config() {
    BoardConfig c;
    c.version = "9.9.9";
    c.source = "mem://src";
    c.sink = "mem://sink";
    c.trigger_mode = "interval";
    c.trigger_interval = seconds(30);
    c.partition_interval = minutes(5);
    c.recent_batches = 3;
    return c;
  }
  ManualClock clock_{kT0};
  MetricsRegistry registry_;
  StatusBoard board_{Config(), &clock_, &registry_, nullptr};
};

TEST_F(StatusBoardTest, ReadinessFollowsStartListingAndDrain) {
  EXPECT_EQ(board_.NotReady().value_or(""), "starting");
  board_.Publish(RunStarted{});
  EXPECT_NE(board_.NotReady().value_or("").find("first listing"), std::string::npos);
  board_.Publish(SourceListed{});
  EXPECT_FALSE(board_.NotReady().has_value());
  board_.Publish(DrainStarted{"SIGTERM"});
  EXPECT_EQ(board_.NotReady().value_or(""), "draining");
}

TEST_F(StatusBoardTest, BatchesInFlightCommittedAndKeptAsReports) {
  board_.Publish(RunStarted{});
  InputPlanned planned;
  planned.batch_id = 1;
  planned.backlog = 2;
  board_.Publish(planned);
  clock_.Advance(seconds(4));
  StatusSnapshot s = board_.Snapshot();
  ASSERT_TRUE(s.in_flight.has_value());
  EXPECT_EQ(s.in_flight->batch_id, 1u);
  EXPECT_EQ(s.in_flight->running_seconds, 4);
  EXPECT_EQ(s.backlog_partitions, 2u);

  Checkpoint after;
  after.watermark = kT0 - minutes(5);
  after.next_batch_id = 2;
  after.base_generation = "full/x";
  board_.Publish(BatchEnded{Report(1, BatchOutcome::kCommitted), after});
  s = board_.Snapshot();
  EXPECT_FALSE(s.in_flight.has_value());
  EXPECT_EQ(s.watermark, after.watermark);
  EXPECT_EQ(s.next_batch_id, 2u);
  EXPECT_EQ(s.last_commit, kT0 + seconds(4));
  EXPECT_EQ(FreshnessLagSeconds(s).value_or(-1), 4);  // 16:00:04 - (15:55 + 5m)

  // Idle triggers are not reports; the last `recent_batches` reports are kept.
  board_.Publish(BatchEnded{Report(0, BatchOutcome::kIdle, "nothing new"), std::nullopt});
  for (uint64_t id = 2; id <= 4; ++id) board_.Publish(BatchEnded{Report(id, BatchOutcome::kFailed, "boom"), std::nullopt});
  auto recent = board_.RecentBatches();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.front().batch_id, 2u);
  EXPECT_EQ(recent.back().batch_id, 4u);

  rapidjson::Document doc;
  const std::string json = board_.StatusJson();
  ASSERT_FALSE(doc.Parse(json.c_str()).HasParseError()) << json;
  EXPECT_EQ(doc["recent_batches"].Size(), 3u);
  EXPECT_EQ(std::string(doc["state"]["watermark"].GetString()), FormatRfc3339(kT0 - minutes(5)));
  EXPECT_EQ(std::string(doc["version"].GetString()), "9.9.9");
}

TEST_F(StatusBoardTest, HealthAndTheSystemdStatusLine) {
  EXPECT_TRUE(board_.Health().healthy);
  EXPECT_EQ(board_.StatusLine(), "healthy; watermark none");
  HealthVerdict v;
  v.healthy = false;
  v.problems = {"actor lister has not answered a heartbeat for 45s"};
  board_.Publish(HealthChanged{v});
  Checkpoint after;
  after.watermark = kT0 - minutes(10);
  board_.Publish(BatchEnded{Report(7, BatchOutcome::kCommitted), after});
  EXPECT_EQ(board_.Health(), v);
  EXPECT_EQ(board_.StatusLine(),
            "UNHEALTHY; watermark " + FormatRfc3339(kT0 - minutes(10)) +
                "; freshness lag 300s; last batch 7 committed; actor lister has not answered a heartbeat for 45s");
}

TEST_F(StatusBoardTest, MetricsCarryTriggersMailboxesAndTheWatermark) {
  board_.Publish(TriggerCounts{5, 2, 1});
  uint64_t refused = 3;
  board_.WatchMailbox("builder", [&] { return refused; }, [] { return uint64_t{0}; });
  Checkpoint after;
  after.watermark = kT0 - minutes(5);
  board_.Publish(BatchEnded{Report(1, BatchOutcome::kCommitted), after});
  const std::string m = registry_.RenderPrometheus();
  EXPECT_NE(m.find("freshet_triggers_total 5"), std::string::npos) << m;
  EXPECT_NE(m.find("freshet_triggers_coalesced_total 2"), std::string::npos);
  EXPECT_NE(m.find("freshet_mailbox_refused_total{actor=\"builder\"} 3"), std::string::npos);
  EXPECT_NE(m.find("freshet_batches_total{outcome=\"committed\"} 1"), std::string::npos);
  EXPECT_NE(m.find("freshet_freshness_lag_seconds 0"), std::string::npos);
  EXPECT_NE(m.find("freshet_build_info{version=\"9.9.9\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace freshet
