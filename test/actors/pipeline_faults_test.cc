// The pipeline in-process (as in pipeline_test.cc: memory stores, a
// ManualClock) with FaultStore around its source and sink: store calls
// fail at a steady rate, put and delete responses get lost after the
// write happened (CURRENT's included), and some calls
// stall. The pipeline does not retry single store calls: a failed call
// fails its batch, and the next trigger (continuous mode: at once) plans
// and runs it again. In the end the sink must hold exactly what a
// fault-free run of the same input commits — same CURRENT (with its
// checkpoint), same generation bytes, same answers to queries — and the
// watermark must never have moved backwards on the way.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <future>
#include <set>
#include <thread>

#include "actors/pipeline.h"
#include "freshet/reader.h"
#include "gen/generator.h"
#include "sink/checkpoint.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
constexpr int kPartitions = 16;  // enough batches that merged segments age out and retention deletes them

const char* const kCountries[] = {"US", "DE", "FR", "JP", "BR", "IN", "GB", "CA", "ES",
                                  "IT", "KR", "MX", "NL", "SE", "PL", "TR", "GR", "EG"};

// What a sink ended up with, for comparisons.
struct SinkImage {
  std::string current;
  std::map<std::string, std::string> objects;  // every key -> bytes
};

SinkImage ImageOf(MemoryStore& sink) {
  SinkImage img;
  for (const std::string& key : sink.Keys()) {
    auto got = GetSync(sink, key);
    EXPECT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    if (got.ok()) img.objects[key] = got->body;
  }
  img.current = img.objects[std::string(kCurrentKey)];
  return img;
}

class PipelineFaultsTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    name_ = "pipeline-faults-" + std::to_string(GetParam());
    GenOptions gen;
    gen.seed = 7;
    gen.start = kT0;
    gen.partitions = 0;
    gen.campaigns = 6;
    gen.ad_groups_per_campaign = 3;
    gen.ads_per_ad_group = 4;
    gen.updates_per_partition = 40;
    gen.objects_per_partition = 2;
    gen.bad_line_share = 0.005;
    auto state = GenState::Create(gen);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    auto src = MemoryStore::OpenNamed(SourceName());
    ASSERT_TRUE(WriteSnapshot(gen, *state, kT0, *src).ok());
    for (int i = 0; i < kPartitions; ++i) {
      ASSERT_TRUE(GeneratePartition(gen, *state, kT0 + i * minutes(5), *src).ok());
    }
    options_.schema = DefaultAdsSchema();
    // One partition per batch, so there are many commits to disturb. With
    // retention of 2 per kind, the deltas that neither CURRENT nor the
    // checkpoint's last 8 batches name get deleted from the 11th batch on.
    options_.pipeline.policy = PlanPolicy::kSequential;
    options_.pipeline.grace = minutes(2);
    options_.pipeline.compute_threads = 2;
    options_.pipeline.max_bad_ratio = 0.05;
    options_.sink.retain_generations = 2;
    options_.watchdog.heartbeat_interval = milliseconds(50);
    options_.admin.listen = "127.0.0.1:0";  // tests run in parallel: any free port
    options_.watchdog.max_commit_age = Duration(0);
    clock_.Set(kT0 + (kPartitions + 1) * minutes(5));  // every partition eligible; the clock stays put
  }
  void TearDown() override {
    for (const std::string& n : {SourceName(), RefSinkName(), SinkName()}) MemoryStore::DropNamed(n);
  }

  std::string SourceName() const { return name_ + "-source"; }
  std::string RefSinkName() const { return name_ + "-sink-ref"; }
  std::string SinkName() const { return name_ + "-sink"; }

  // The fault-free run: available_now builds every partition, then ends.
  void RunReference() {
    Options o = options_;
    o.pipeline.trigger = TriggerMode::kAvailableNow;
    Pipeline p(o, MemoryStore::OpenNamed(SourceName()), MemoryStore::OpenNamed(RefSinkName()), &clock_);
    ASSERT_EQ(p.Run(), kExitOk);
    size_t committed = 0;
    for (const auto& b : p.board().RecentBatches()) committed += b.outcome == BatchOutcome::kCommitted;
    ASSERT_EQ(committed, static_cast<size_t>(kPartitions));
  }

  std::string name_;
  Options options_;
  ManualClock clock_;
};

TEST_P(PipelineFaultsTest, FailedBatchesAreRetriedUntilTheSinkMatchesTheFaultFreeRun) {
  const uint64_t seed = GetParam();
  RunReference();
  if (HasFatalFailure()) return;
  auto ref_sink = MemoryStore::OpenNamed(RefSinkName());
  const SinkImage ref = ImageOf(*ref_sink);
  auto ref_current = DecodeCurrent(ref.current);
  ASSERT_TRUE(ref_current.ok()) << ref_current.status().ToString();
  ASSERT_EQ(ref_current->watermark, kT0 + (kPartitions - 1) * minutes(5));

  // Faults. Rates: enough that many batches fail, low enough that most
  // attempts get through (a batch makes some 30-60 store calls).
  auto source = std::make_unique<FaultStore>(MemoryStore::OpenNamed(SourceName()), seed);
  FaultOptions so;
  so.list.error_rate = 0.02;
  so.get.error_rate = 0.02;
  so.head.error_rate = 0.02;
  so.get.stall_rate = 0.01;
  so.get.stall = milliseconds(50);
  source->SetOptions(so);
  source->FailNthCall(4, StoreOp::kGet);
  source->StallNthCall(3, StoreOp::kGet, milliseconds(300));

  std::shared_ptr<MemoryStore> sink_backend = MemoryStore::OpenNamed(SinkName());
  auto sink = std::make_unique<FaultStore>(sink_backend, seed + 1000);
  FaultOptions ko;  // no GET faults: the start-up read of CURRENT must succeed
  ko.put.error_rate = 0.02;
  ko.put.lost_response_rate = 0.02;
  ko.list.error_rate = 0.03;
  ko.del.error_rate = 0.03;
  ko.del.lost_response_rate = 0.03;
  sink->SetOptions(ko);
  // And the cases that must happen whatever the draws (on the source, a
  // failed and a stalled read, above): the first segment write fails; the
  // first and second CURRENT writes happen but their
  // responses are lost; the first retention delete too; a put stalls.
  sink->FailNthCall(1, StoreOp::kPut);
  sink->LoseNthResponse(1, StoreOp::kPut, std::string(kCurrentKey));
  sink->LoseNthResponse(2, StoreOp::kPut, std::string(kCurrentKey));
  sink->LoseNthResponse(1, StoreOp::kDelete);
  sink->StallNthCall(5, StoreOp::kPut, milliseconds(300));
  FaultStore* source_faults = source.get();
  FaultStore* sink_faults = sink.get();

  Options o = options_;
  o.pipeline.trigger = TriggerMode::kContinuous;  // the next trigger follows each batch at once
  Pipeline p(o, std::move(source), std::move(sink), &clock_);
  std::promise<int> exit_code;
  std::thread runner([&] { exit_code.set_value(p.Run()); });

  // Watch the sink (directly, without faults) until the fault run has
  // committed what the reference did; the watermark in CURRENT and in the
  // embedded checkpoint must only ever move forwards.
  std::optional<TimePoint> current_mark;
  std::vector<TimePoint> marks_seen;
  bool regressed = false, reached = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<CurrentPointer> cur;
    if (auto got = GetSync(*sink_backend, std::string(kCurrentKey)); got.ok()) {
      auto decoded = DecodeCurrent(got->body);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();  // CURRENT is never torn
      cur = *decoded;
      if (current_mark && cur->watermark < current_mark) regressed = true;
      if (cur->watermark && cur->watermark != current_mark) marks_seen.push_back(*cur->watermark);
      current_mark = cur->watermark;
    }
    if (cur && cur->watermark == ref_current->watermark) {
      reached = true;
      break;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  // Drain: the batch in flight finishes, then Run returns. Faults off, so
  // the drain itself is not disturbed (a batch that already met one may
  // still fail: exit 3).
  source_faults->ClearFaults();
  sink_faults->ClearFaults();
  p.Stop();
  auto done = exit_code.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(120)), std::future_status::ready);
  runner.join();
  const int code = done.get();
  EXPECT_TRUE(code == kExitOk || code == kExitBatchFailed) << code;
  ASSERT_TRUE(reached) << "the fault run never committed the last partition; watermark "
                       << (current_mark ? FormatRfc3339(*current_mark) : "none");
  EXPECT_FALSE(regressed);
  EXPECT_TRUE(std::is_sorted(marks_seen.begin(), marks_seen.end()));

  // The faults really happened.
  const FaultCounters sc = source_faults->counters(), kc = sink_faults->counters();
  EXPECT_GT(sc.errors(), 0u) << sc.ToString();
  EXPECT_GE(sc.stalls(), 1u) << sc.ToString();
  EXPECT_GE(kc[StoreOp::kPut].errors, 1u) << kc.ToString();
  EXPECT_GE(kc[StoreOp::kPut].lost_responses, 2u) << kc.ToString();  // CURRENT twice at least
  EXPECT_GE(kc[StoreOp::kDelete].lost_responses, 1u) << kc.ToString();
  EXPECT_GE(kc.stalls(), 1u) << kc.ToString();
  EXPECT_EQ(source_faults->pending_rules(), 0u);
  EXPECT_EQ(sink_faults->pending_rules(), 0u);
  std::printf("faults (seed %llu): source %s\n  sink %s\n", static_cast<unsigned long long>(seed),
              sc.ToString().c_str(), kc.ToString().c_str());

  // Failed batches were retried on later triggers: every failed batch that
  // got as far as a plan was committed afterwards under the same id, and
  // committed batches have distinct, increasing ids (nothing twice).
  const std::vector<BatchProgress> batches = p.board().RecentBatches();
  uint64_t failed_planned = 0, failed_total = 0, last_committed = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    const BatchProgress& b = batches[i];
    if (b.outcome == BatchOutcome::kFailed) {
      ++failed_total;
      if (b.batch_id == 0) continue;  // failed while listing: nothing planned yet
      ++failed_planned;
      bool retried = std::any_of(batches.begin() + static_cast<std::ptrdiff_t>(i) + 1, batches.end(),
                                 [&](const BatchProgress& later) {
                                   return later.batch_id == b.batch_id && later.outcome == BatchOutcome::kCommitted;
                                 });
      EXPECT_TRUE(retried || i + 1 == batches.size()) << "batch " << b.batch_id << " failed and was never committed";
    } else if (b.outcome == BatchOutcome::kCommitted) {
      EXPECT_GT(b.batch_id, last_committed) << "batch " << b.batch_id << " committed twice or out of order";
      last_committed = b.batch_id;
    }
  }
  EXPECT_GT(failed_planned, 0u);
  std::printf("batches: %llu failed (%llu after planning), %zu reports\n",
              static_cast<unsigned long long>(failed_total), static_cast<unsigned long long>(failed_planned),
              batches.size());

  // Nothing lost, nothing duplicated: the commit point (with its checkpoint) and
  // every object the reference run kept are byte-identical. The fault run
  // may keep extra old generations (a retention delete that failed);
  // CURRENT does not name them.
  const SinkImage got = ImageOf(*sink_backend);
  EXPECT_EQ(got.current, ref.current);
  size_t extra = 0;
  for (const auto& [key, bytes] : ref.objects) {
    auto it = got.objects.find(key);
    if (it == got.objects.end()) {
      ADD_FAILURE() << "missing in the fault run's sink: " << key;
    } else {
      EXPECT_TRUE(it->second == bytes) << "different bytes: " << key;
    }
  }
  for (const auto& [key, bytes] : got.objects) {
    if (ref.objects.count(key)) continue;
    ++extra;
    EXPECT_FALSE(key.starts_with(ref_current->full + "/") || key.starts_with(ref_current->delta + "/")) << key;
  }
  if (extra) std::printf("%zu leftover objects of retired generations\n", extra);

  // The committed index answers exactly like the fault-free one.
  auto ref_reader = Reader::Open("mem://" + RefSinkName());
  auto reader = Reader::Open("mem://" + SinkName());
  ASSERT_TRUE(ref_reader.ok()) << ref_reader.status().ToString();
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->generations(), (*ref_reader)->generations());
  std::set<std::string> ids;
  for (const char* country : kCountries) {
    auto q = ParseQuery({std::string("country:") + country}, false);
    ASSERT_TRUE(q.ok());
    auto want = (*ref_reader)->Search(*q);
    auto have = (*reader)->Search(*q);
    ASSERT_TRUE(want.ok() && have.ok()) << want.status().ToString() << " / " << have.status().ToString();
    EXPECT_EQ(*have, *want) << country;
    ids.insert(want->begin(), want->end());
  }
  EXPECT_GT(ids.size(), 20u);  // the queries are not vacuous
  for (const std::string& id : ids) {
    auto want = (*ref_reader)->Get(id);
    auto have = (*reader)->Get(id);
    ASSERT_TRUE(want.ok() && have.ok()) << id;
    EXPECT_EQ(*have, *want) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, PipelineFaultsTest, ::testing::Values(1u, 2u),
                         [](const auto& info) { return "Seed" + std::to_string(info.param); });

}  // namespace
}  // namespace freshet
