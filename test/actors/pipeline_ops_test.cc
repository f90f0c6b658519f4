// The pipeline's operations surface in-process: the admin server on the
// pipeline's own io_context (127.0.0.1:0), /healthz, /readyz, /metrics and
// /status answered while a batch is in flight, the metrics a batch leaves
// behind, and start-up failing cleanly on a busy admin port. The real
// binary, Prometheus, Chromium and systemd are covered by test/e2e.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

#include <rapidjson/document.h>

#include "actors/pipeline.h"
#include "gen/generator.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/raw_http.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using testing::RawHttp;

// The value of the first sample line starting with `series` ("name{labels}"), or NaN.
double Sample(const std::string& exposition, const std::string& series) {
  size_t pos = 0;
  while ((pos = exposition.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || exposition[pos - 1] == '\n') return std::stod(exposition.substr(pos + series.size() + 1));
    pos += series.size();
  }
  return std::nan("");
}

class PipelineOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    GenOptions gen;
    gen.seed = 11;
    gen.start = kT0;
    gen.partitions = 0;
    gen.campaigns = 4;
    gen.ad_groups_per_campaign = 2;
    gen.ads_per_ad_group = 3;
    gen.updates_per_partition = 30;
    gen.objects_per_partition = 2;
    gen.bad_line_share = 0.01;
    auto state = GenState::Create(gen);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    auto src = MemoryStore::OpenNamed(name_ + "-source");
    ASSERT_TRUE(WriteSnapshot(gen, *state, kT0, *src).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(GeneratePartition(gen, *state, kT0 + i * minutes(5), *src).ok());
    options_.schema = DefaultAdsSchema();
    options_.pipeline.trigger = TriggerMode::kContinuous;
    options_.pipeline.policy = PlanPolicy::kSequential;
    options_.pipeline.grace = minutes(2);
    options_.pipeline.compute_threads = 2;
    options_.pipeline.max_bad_ratio = 0.1;
    options_.watchdog.heartbeat_interval = milliseconds(50);
    options_.admin.listen = "127.0.0.1:0";
    options_.admin.status_batches = 3;
    // 00:15 is the newest partition; at 00:21 it is eligible (end 00:20 + grace 2m > 00:21? no: 00:22),
    // so 00:00 .. 00:10 are built and 00:15 is reported as not eligible.
    clock_.Set(kT0 + minutes(21));
  }
  void TearDown() override {
    MemoryStore::DropNamed(name_ + "-source");
    MemoryStore::DropNamed(name_ + "-sink");
  }

  std::unique_ptr<ObjectStore> Source() { return MemoryStore::OpenNamed(name_ + "-source"); }
  std::unique_ptr<ObjectStore> Sink() { return MemoryStore::OpenNamed(name_ + "-sink"); }

  static uint16_t WaitForPort(const Pipeline& p) {
    for (int i = 0; i < 3000 && p.admin_port() == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
    return p.admin_port();
  }
  // Polls `path` until `pred(response)` holds (a generous bound, not a timing assertion).
  template <typename Pred>
  static testing::RawHttpResponse WaitFor(uint16_t port, const std::string& path, Pred pred) {
    testing::RawHttpResponse r;
    for (int i = 0; i < 3000; ++i) {
      r = RawHttp(port, {.target = path});
      if (pred(r)) return r;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return r;
  }

  std::string name_;
  Options options_;
  ManualClock clock_;
};

TEST_F(PipelineOpsTest, EndpointsReportTheBatchesAndTheState) {
  Pipeline p(options_, Source(), Sink(), &clock_);
  std::promise<int> exit_code;
  std::thread runner([&] { exit_code.set_value(p.Run()); });
  const uint16_t port = WaitForPort(p);
  ASSERT_NE(port, 0);

  // Three committed batches (00:00, 00:05, 00:10: sequential), then idle.
  auto status = WaitFor(port, "/status", [](const auto& r) {
    return r.ok() && r.body.find("\"next_batch_id\":4") != std::string::npos;
  });
  ASSERT_TRUE(status.ok()) << status.Describe();
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.Header("Content-Type").value_or(""), "application/json");

  auto ready = RawHttp(port, {.target = "/readyz"});
  EXPECT_EQ(ready.status, 200) << ready.body;
  auto health = RawHttp(port, {.target = "/healthz"});
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.body, "ok\n");

  auto metrics = RawHttp(port, {.target = "/metrics"});
  ASSERT_EQ(metrics.status, 200) << metrics.Describe();
  EXPECT_NE(metrics.Header("Content-Type").value_or("").find("version=0.0.4"), std::string::npos);
  const std::string& m = metrics.body;
  EXPECT_EQ(Sample(m, "freshet_batches_total{outcome=\"committed\"}"), 3) << m;
  EXPECT_EQ(Sample(m, "freshet_batches_total{outcome=\"failed\"}"), 0);
  EXPECT_EQ(Sample(m, "freshet_watermark_timestamp_seconds"), ToUnixMillis(kT0 + minutes(10)) / 1000.0);
  // Now 00:21 (manual clock), newest committed partition ends 00:15.
  EXPECT_EQ(Sample(m, "freshet_freshness_lag_seconds"), 360);
  EXPECT_EQ(Sample(m, "freshet_not_eligible_partitions"), 1);
  EXPECT_EQ(Sample(m, "freshet_batch_duration_seconds_count"), 3);
  EXPECT_EQ(Sample(m, "freshet_batch_stage_duration_seconds_count{stage=\"commit\"}"), 3);
  // List and plan ran for every trigger, idle ones included.
  EXPECT_GE(Sample(m, "freshet_batch_stage_duration_seconds_count{stage=\"list\"}"), 4);
  EXPECT_GT(Sample(m, "freshet_input_records_total"), 0);
  EXPECT_GT(Sample(m, "freshet_bad_records_total"), 0);
  EXPECT_GT(Sample(m, "freshet_output_bytes_total"), 0);
  EXPECT_GT(Sample(m, "freshet_generation_docs{generation=\"full\"}"), 0);
  EXPECT_EQ(Sample(m, "freshet_healthy"), 1);
  EXPECT_EQ(Sample(m, "freshet_ready"), 1);
  EXPECT_GT(Sample(m, "freshet_event_loop_lag_seconds_count"), -1);  // present
  EXPECT_GT(Sample(m, "process_resident_memory_bytes"), 0);
  EXPECT_GT(Sample(m, "process_open_fds"), 0);
  EXPECT_GE(Sample(m, "freshet_admin_requests_total"), 3);

  // /status: the state and the last status_batches (3) reports.
  status = RawHttp(port, {.target = "/status"});
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(status.body.c_str()).HasParseError()) << status.body;
  EXPECT_TRUE(doc["healthy"].GetBool());
  EXPECT_TRUE(doc["ready"].GetBool());
  const auto& state = doc["state"];
  EXPECT_EQ(std::string(state["watermark"].GetString()), FormatRfc3339(kT0 + minutes(10)));
  EXPECT_EQ(state["freshness_lag_seconds"].GetDouble(), 360);
  EXPECT_TRUE(state["batch_in_flight"].IsNull());
  ASSERT_EQ(state["not_eligible"].Size(), 1u);
  EXPECT_EQ(std::string(state["not_eligible"][0]["partition"].GetString()), FormatRfc3339(kT0 + minutes(15)));
  EXPECT_NE(std::string(state["not_eligible"][0]["reason"].GetString()).find("not eligible until"),
            std::string::npos);
  const auto& batches = doc["recent_batches"];
  ASSERT_EQ(batches.Size(), 3u);
  for (rapidjson::SizeType i = 0; i < batches.Size(); ++i) {
    EXPECT_EQ(batches[i]["batch_id"].GetUint64(), i + 1);
    EXPECT_EQ(std::string(batches[i]["outcome"].GetString()), "committed");
    EXPECT_GT(batches[i]["input"]["records"].GetUint64(), 0u);
    EXPECT_GE(batches[i]["durations_seconds"]["total"].GetDouble(), 0);
  }
  EXPECT_EQ(std::string(batches[0]["kind"].GetString()), "full_and_delta");

  // The page embeds the same document.
  auto page = RawHttp(port, {.target = "/"});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("recent_batches"), std::string::npos);
  EXPECT_EQ(RawHttp(port, {.target = "/nope"}).status, 404);

  ::kill(::getpid(), SIGTERM);
  auto done = exit_code.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  runner.join();
  EXPECT_EQ(done.get(), kExitOk);
  EXPECT_EQ(p.end(), PipelineEnd::kStopped);
  // The server is gone with the run.
  EXPECT_EQ(RawHttp(port, {.target = "/healthz"}, milliseconds(2000)).outcome, testing::RawHttpOutcome::kConnectFailed);
}

TEST_F(PipelineOpsTest, AnswersWhileABatchIsInFlight) {
  // The first source GET stalls for 3 s: the batch is in flight meanwhile,
  // and the admin endpoint must answer from the same io_context.
  auto source = std::make_unique<FaultStore>(Source(), 1);
  source->StallNthCall(1, StoreOp::kGet, milliseconds(3000));
  Pipeline p(options_, std::move(source), Sink(), &clock_);
  std::promise<int> exit_code;
  std::thread runner([&] { exit_code.set_value(p.Run()); });
  const uint16_t port = WaitForPort(p);
  ASSERT_NE(port, 0);
  auto status = WaitFor(port, "/status", [](const auto& r) {
    return r.ok() && r.body.find("\"batch_in_flight\":{") != std::string::npos;
  });
  EXPECT_NE(status.body.find("\"batch_in_flight\":{\"batch_id\":1"), std::string::npos) << status.body;
  auto metrics = RawHttp(port, {.target = "/metrics"});
  EXPECT_EQ(Sample(metrics.body, "freshet_batch_in_flight"), 1) << metrics.body;
  EXPECT_EQ(Sample(metrics.body, "freshet_batches_total{outcome=\"committed\"}"), 0);
  EXPECT_EQ(RawHttp(port, {.target = "/healthz"}).status, 200);
  // The batch has now "run" for 11 minutes (watchdog.batch_stall: 10m):
  // stalled, and /healthz says so while the batch is still in flight.
  clock_.Set(clock_.Now() + minutes(11));
  auto health = WaitFor(port, "/healthz", [](const auto& r) { return r.status == 503; });
  EXPECT_EQ(health.status, 503) << health.Describe();
  EXPECT_NE(health.body.find("batch 1 stalled"), std::string::npos) << health.body;
  EXPECT_EQ(Sample(RawHttp(port, {.target = "/metrics"}).body, "freshet_healthy"), 0);

  p.Stop();  // as SIGTERM does (EndpointsReportTheBatchesAndTheState sends the signal)
  auto done = exit_code.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  runner.join();
  EXPECT_EQ(done.get(), kExitOk);  // drained: the stalled batch finished first
  ASSERT_FALSE(p.board().RecentBatches().empty());
  EXPECT_EQ(p.board().RecentBatches().front().outcome, BatchOutcome::kCommitted);
}

TEST_F(PipelineOpsTest, ABusyAdminPortFailsStartUpNamingTheKey) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  options_.admin.listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  Pipeline p(options_, Source(), Sink(), &clock_);
  EXPECT_EQ(p.Run(), kExitFatal);
  EXPECT_EQ(p.end(), PipelineEnd::kNotStarted);
  ::close(fd);
}

TEST_F(PipelineOpsTest, MetricsGoToTheCallersRegistry) {
  MetricsRegistry registry;
  registry.GetCounter("test_marker_total", "A family the caller registered.").Inc();
  options_.pipeline.trigger = TriggerMode::kAvailableNow;
  options_.admin.listen = "";
  Pipeline p(options_, Source(), Sink(), &clock_, &registry);
  ASSERT_EQ(p.Run(), kExitOk);
  EXPECT_EQ(p.end(), PipelineEnd::kStopped);
  const std::string m = registry.RenderPrometheus();
  EXPECT_EQ(Sample(m, "test_marker_total"), 1);
  EXPECT_EQ(Sample(m, "freshet_batches_total{outcome=\"committed\"}"), 3) << m;
}

}  // namespace
}  // namespace freshet
