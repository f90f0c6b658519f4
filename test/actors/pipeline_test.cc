// The whole pipeline in-process: six actors on one io_context over
// in-memory stores, time driven by a ManualClock. (The real binary, real
// files and kill -9 are covered by test/e2e.)
#include "actors/pipeline.h"
#include "sink/writer_lease.h"

#include <gtest/gtest.h>

#include <csignal>
#include <future>

#include <unistd.h>
#include <thread>

#include "commit/segment_chain.h"
#include "commit/segment_merge.h"
#include "gen/generator.h"
#include "index/manifest.h"
#include "plan/partition_layout.h"
#include "sink/checkpoint.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    gen_.seed = 7;
    gen_.start = kT0;
    gen_.partitions = 0;
    gen_.campaigns = 6;
    gen_.ad_groups_per_campaign = 3;
    gen_.ads_per_ad_group = 4;
    gen_.updates_per_partition = 40;
    gen_.objects_per_partition = 2;
    gen_.bad_line_share = 0.005;
    auto state = GenState::Create(gen_);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    state_ = std::make_unique<GenState>(std::move(state).value());
    auto src = MemoryStore::OpenNamed(name_ + "-source");
    ASSERT_TRUE(WriteSnapshot(gen_, *state_, kT0, *src).ok());
    options_.schema = DefaultAdsSchema();
    options_.pipeline.trigger = TriggerMode::kAvailableNow;
    options_.pipeline.grace = minutes(2);
    options_.pipeline.compute_threads = 2;
    options_.pipeline.max_bad_ratio = 0.05;
    options_.watchdog.heartbeat_interval = std::chrono::milliseconds(50);
    options_.admin.listen = "127.0.0.1:0";  // tests run in parallel: any free port
  }
  void TearDown() override {
    MemoryStore::DropNamed(name_ + "-source");
    MemoryStore::DropNamed(name_ + "-sink");
  }

  void WritePartitions(int from, int count) {
    auto src = MemoryStore::OpenNamed(name_ + "-source");
    for (int i = from; i < from + count; ++i) {
      ASSERT_TRUE(GeneratePartition(gen_, *state_, kT0 + i * minutes(5), *src).ok());
    }
  }

  int RunAt(TimePoint now) {
    clock_.Set(now);
    Pipeline p(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
    int code = p.Run();
    batches_ = p.board().RecentBatches();
    return code;
  }

  // Polls (another thread runs the pipeline) until the sink has a CURRENT.
  bool WaitForFirstCommit() {
    for (int i = 0; i < 400 && !Current(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return Current().has_value();
  }

  // Polls (another thread runs the pipeline) until CURRENT's watermark is `want`.
  // Polls every 10 ms, `tries` times (6 s by default).
  bool WaitForWatermark(TimePoint want, int tries = 600) {
    for (int i = 0; i < tries; ++i) {
      auto cur = Current();
      if (cur && cur->watermark == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::optional<CurrentPointer> Current() {
    auto sink = MemoryStore::OpenNamed(name_ + "-sink");
    auto got = GetSync(*sink, std::string(kCurrentKey));
    if (!got.ok()) return std::nullopt;
    auto cur = DecodeCurrent(got->body);
    EXPECT_TRUE(cur.ok()) << cur.status().ToString();
    return *cur;
  }

  std::string name_;
  GenOptions gen_;
  std::unique_ptr<GenState> state_;
  Options options_;
  ManualClock clock_;
  std::vector<BatchProgress> batches_;
};

TEST_F(PipelineTest, AvailableNowBuildsFullAndDeltaThenResumesAfterRestart) {
  WritePartitions(0, 6);  // 00:00 .. 00:25
  ASSERT_EQ(RunAt(kT0 + minutes(40)), kExitOk);
  auto cur = Current();
  ASSERT_TRUE(cur.has_value());
  EXPECT_EQ(cur->watermark, kT0 + minutes(25));
  EXPECT_FALSE(cur->full.empty());
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].outcome, BatchOutcome::kCommitted);
  EXPECT_EQ(batches_[0].kind, "full_and_delta");
  EXPECT_EQ(batches_[0].skipped, 5u);  // latest: jumped over 00:00 .. 00:20
  EXPECT_GT(batches_[0].docs + batches_[0].tombstones, 0u);
  std::string full = cur->full;

  // A restart with two new partitions: a delta on the same full.
  WritePartitions(6, 2);  // 00:30, 00:35
  ASSERT_EQ(RunAt(kT0 + minutes(50)), kExitOk);
  cur = Current();
  EXPECT_EQ(cur->watermark, kT0 + minutes(35));
  EXPECT_EQ(cur->full, full);
  EXPECT_EQ(cur->checkpoint.next_batch_id, 3u);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].kind, "delta");

  // Nothing new: no batch, CURRENT untouched.
  std::string before = EncodeCurrent(*cur);
  ASSERT_EQ(RunAt(kT0 + minutes(55)), kExitOk);
  EXPECT_TRUE(batches_.empty());
  EXPECT_EQ(EncodeCurrent(*Current()), before);
}

TEST_F(PipelineTest, PartitionsInsideTheGraceWaitAndAreNotBuilt) {
  WritePartitions(0, 3);  // 00:00, 00:05, 00:10
  // At 00:16 only 00:00 (end 00:05 + 2m) and 00:05 (end 00:10 + 2m) are eligible.
  ASSERT_EQ(RunAt(kT0 + minutes(16)), kExitOk);
  EXPECT_EQ(Current()->watermark, kT0 + minutes(5));
  ASSERT_EQ(RunAt(kT0 + minutes(17)), kExitOk);  // 00:10 ends 00:15, eligible at 00:17
  EXPECT_EQ(Current()->watermark, kT0 + minutes(10));
}

TEST_F(PipelineTest, SequentialBuildsEveryPartitionInOrder) {
  options_.pipeline.policy = PlanPolicy::kSequential;
  WritePartitions(0, 4);
  ASSERT_EQ(RunAt(kT0 + minutes(60)), kExitOk);
  ASSERT_EQ(batches_.size(), 4u);
  for (size_t i = 0; i < batches_.size(); ++i) {
    EXPECT_EQ(batches_[i].batch_id, i + 1);
    EXPECT_EQ(batches_[i].target, FormatRfc3339(kT0 + static_cast<int>(i) * minutes(5)));
    EXPECT_EQ(batches_[i].skipped, 0u);
  }
  EXPECT_EQ(Current()->watermark, kT0 + minutes(15));
}

TEST_F(PipelineTest, EachBatchAddsASegmentAndMergesKeepTheChainShort) {
  options_.pipeline.policy = PlanPolicy::kSequential;
  WritePartitions(0, 10);
  ASSERT_EQ(RunAt(kT0 + minutes(90)), kExitOk);
  ASSERT_EQ(batches_.size(), 10u);
  auto cur = Current();
  ASSERT_TRUE(cur);
  const Checkpoint& cp = cur->checkpoint;
  EXPECT_EQ(cur->chain, cp.chain);
  EXPECT_LT(cp.chain.size(), 10u) << "merges replaced runs of segments";
  ASSERT_EQ(cp.chain_bytes.size(), cp.chain.size());
  EXPECT_FALSE(cp.retired.empty()) << "merged segments stay for readers of older CURRENTs";
  // The chain links up: the first starts it, each later one names the one
  // before (or the last member of a merged one), and all shadow the full.
  auto sink = MemoryStore::OpenNamed(name_ + "-sink");
  std::vector<Manifest> manifests;
  for (const std::string& id : cp.chain) {
    auto got = GetSync(*sink, GenerationFileKey(id, kManifestName));
    ASSERT_TRUE(got.ok()) << id;
    auto m = ParseManifest(got->body);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manifests.push_back(*m);
  }
  EXPECT_TRUE(CheckChainLinks(manifests, cur->full).ok()) << CheckChainLinks(manifests, cur->full).ToString();
  EXPECT_FALSE(manifests.front().merged.empty()) << "the oldest segments were merged";
  EXPECT_TRUE(manifests.back().merged.empty()) << "the newest segment is never merged";
}

TEST_F(PipelineTest, TooManyBadRecordsFailsTheBatchAndCommitsNothing) {
  options_.pipeline.max_bad_ratio = 0.0;
  gen_.bad_line_share = 0.2;
  WritePartitions(0, 2);
  EXPECT_EQ(RunAt(kT0 + minutes(40)), kExitBatchFailed);
  EXPECT_FALSE(Current().has_value());
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].outcome, BatchOutcome::kFailed);
  EXPECT_NE(batches_[0].message.find("FailedPrecondition"), std::string::npos) << batches_[0].message;
}

TEST_F(PipelineTest, SameInputsGiveTheSameGenerationsInAnotherSink) {
  WritePartitions(0, 3);
  ASSERT_EQ(RunAt(kT0 + minutes(40)), kExitOk);
  auto first = Current();
  MemoryStore::DropNamed(name_ + "-sink");
  ASSERT_EQ(RunAt(kT0 + minutes(45)), kExitOk);
  auto second = Current();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(EncodeCurrent(*first), EncodeCurrent(*second));
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// max_uptime: the Watchdog drains the pipeline and the run ends with 0,
// here in interval mode where nothing else would ever end it.
// A restart rebuilds its window state by fetching, parsing and applying
// parts that overlap (actors/fetch_parse.h). Here half the source's
// reads complete later on the fault store's timer thread, so fetches
// finish out of order and on two threads at once (a race TSan would see);
// the restarted batch still extends the chain it found.
TEST_F(PipelineTest, RestartRebuildsTheWindowFromReadsCompletingOnOtherThreads) {
  options_.pipeline.policy = PlanPolicy::kSequential;  // one partition per batch: a chain
  WritePartitions(0, 4);
  ASSERT_EQ(RunAt(kT0 + minutes(30)), kExitOk);
  auto before = Current();
  ASSERT_TRUE(before.has_value());
  ASSERT_FALSE(before->chain.empty());

  WritePartitions(4, 1);
  clock_.Set(kT0 + minutes(35));
  auto owned = std::make_unique<FaultStore>(std::shared_ptr<ObjectStore>(MemoryStore::OpenNamed(name_ + "-source")),
                                            /*seed=*/9);
  FaultStore* faults = owned.get();
  FaultOptions fo;
  fo.get.stall_rate = 0.5;
  fo.get.stall = std::chrono::milliseconds(2);
  faults->SetOptions(fo);
  uint64_t stalls = 0;
  {
    Pipeline p(options_, std::move(owned), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
    ASSERT_EQ(p.Run(), kExitOk);
    batches_ = p.board().RecentBatches();
    stalls = faults->counters()[StoreOp::kGet].stalls;
  }
  EXPECT_GT(stalls, 0u);
  auto after = Current();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->watermark, kT0 + minutes(20));
  EXPECT_EQ(after->full, before->full);
  // Extended, not started over: the new head's predecessor is the old head.
  ASSERT_FALSE(after->chain.empty());
  auto sink = MemoryStore::OpenNamed(name_ + "-sink");
  auto got = GetSync(*sink, GenerationFileKey(after->chain.back(), kManifestName));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto m = ParseManifest(got->body);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->predecessor, before->chain.back());
  ASSERT_FALSE(batches_.empty());
  for (const BatchProgress& b : batches_) {
    EXPECT_EQ(b.outcome, BatchOutcome::kCommitted) << b.message;
    EXPECT_EQ(b.kind, "delta");
  }
}

TEST_F(PipelineTest, PlannedRestartAfterMaxUptimeDrainsAndExitsZero) {
  WritePartitions(0, 2);
  options_.pipeline.trigger = TriggerMode::kInterval;
  options_.pipeline.trigger_interval = std::chrono::hours(1);
  options_.watchdog.max_uptime = std::chrono::hours(24);
  options_.watchdog.max_commit_age = Duration(0);
  clock_.Set(kT0 + minutes(30));
  Pipeline p(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
  std::promise<int> result;
  std::thread runner([&] { result.set_value(p.Run()); });
  auto done = result.get_future();
  // The first batch commits; then only the planned restart can end the run.
  ASSERT_TRUE(WaitForFirstCommit());
  EXPECT_EQ(done.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  clock_.Advance(std::chrono::hours(25));
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(done.get(), kExitOk);
  runner.join();
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// The hybrid rule: with an hour-long interval, a probe (every second here)
// sees the new eligible partition's bytes and fires a batch early.
TEST_F(PipelineTest, HybridTriggerFiresEarlyOnPendingBytes) {
  WritePartitions(0, 1);
  options_.pipeline.trigger = TriggerMode::kInterval;
  options_.pipeline.trigger_interval = std::chrono::seconds(6);  // probes every 1s
  options_.pipeline.trigger_pending_bytes = 1;
  options_.watchdog.max_commit_age = Duration(0);
  clock_.Set(kT0 + minutes(15));  // moves by hand, never to the 6 s deadline
  Pipeline p(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
  std::thread runner([&] { (void)p.Run(); });
  EXPECT_TRUE(WaitForWatermark(kT0));
  WritePartitions(1, 1);  // 00:05: eligible already (00:12 <= 00:15)
  // One probe interval at a time: the first probe may find the batch before
  // still in flight (its commit is visible before the Ticker hears that it
  // finished, and a probe then does nothing), and a loaded machine widens
  // that gap. After 4 probes the interval deadline is still 2 s away: only
  // an early fire can commit this partition.
  bool committed = false;
  for (int probe = 0; probe < 4 && !committed; ++probe) {
    clock_.Advance(std::chrono::seconds(1));
    committed = WaitForWatermark(kT0 + minutes(5), 150);
  }
  EXPECT_TRUE(committed);
  p.Stop();
  runner.join();
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// A sink written by freshet 0.1 kept a copy of the checkpoint beside
// CURRENT; it opens from CURRENT, and the old copy is removed at start.
TEST_F(PipelineTest, TheOldCheckpointFileIsRemovedAtStart) {
  WritePartitions(0, 2);
  ASSERT_EQ(RunAt(kT0 + minutes(40)), kExitOk);
  auto sink = MemoryStore::OpenNamed(name_ + "-sink");
  const Checkpoint committed = Current()->checkpoint;
  ASSERT_TRUE(PutSync(*sink, std::string(kLegacyCheckpointKey), EncodeCheckpoint(Checkpoint{})).ok());
  ASSERT_EQ(RunAt(kT0 + minutes(41)), kExitOk);
  EXPECT_EQ(GetSync(*sink, std::string(kLegacyCheckpointKey)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Current()->checkpoint, committed);
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// A source with nothing new for hours stays healthy (it was judged
// unhealthy once the last commit was older than max_commit_age, and
// restarted by systemd every 15 minutes).
TEST_F(PipelineTest, AQuietSourceStaysHealthy) {
  WritePartitions(0, 2);
  options_.pipeline.trigger = TriggerMode::kInterval;
  options_.pipeline.trigger_interval = minutes(10);
  options_.watchdog.max_commit_age = minutes(15);
  clock_.Set(kT0 + minutes(30));
  Pipeline p(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
  std::thread runner([&] { (void)p.Run(); });
  ASSERT_TRUE(WaitForFirstCommit());
  // CURRENT is written before the batch's end reaches the status board:
  // advancing the clock in between made the batch look stalled for 15 min.
  for (int i = 0; i < 400 && p.board().Snapshot().in_flight; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(p.board().Snapshot().in_flight);
  for (int step = 0; step < 12; ++step) {  // three hours, in 15-minute steps
    clock_.Advance(minutes(15));
    // Let the triggers (idle) and the heartbeat round run.
    for (int i = 0; i < 100 && p.board().Snapshot().fired < uint64_t(step) + 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    HealthVerdict v = p.board().Health();
    EXPECT_TRUE(v.healthy) << "after " << (step + 1) * 15 << " quiet minutes: "
                           << (v.problems.empty() ? "" : v.problems[0]);
  }
  p.Stop();
  runner.join();
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// One writer per sink: while a daemon runs, a second one on the same sink
// is refused at start-up (exit 1) by the writer lease; once the first
// stops, it is free again.
TEST_F(PipelineTest, ASecondDaemonOnTheSinkIsRefusedAtStart) {
  WritePartitions(0, 2);
  Options running = options_;
  running.pipeline.trigger = TriggerMode::kInterval;
  running.pipeline.trigger_interval = std::chrono::hours(1);
  running.watchdog.max_commit_age = Duration(0);
  clock_.Set(kT0 + minutes(30));
  Pipeline first(running, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
  std::thread runner([&] { (void)first.Run(); });
  ASSERT_TRUE(WaitForFirstCommit());
  const std::string before = EncodeCurrent(*Current());

  Pipeline second(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"),
                  &clock_);
  EXPECT_EQ(second.Run(), kExitFatal);
  EXPECT_EQ(EncodeCurrent(*Current()), before) << "the refused daemon wrote nothing";

  first.Stop();
  runner.join();
  EXPECT_EQ(HeadSync(*MemoryStore::OpenNamed(name_ + "-sink"), std::string(kWriterLeaseKey)).status().code(),
            StatusCode::kNotFound)
      << "a clean stop releases the lease";
  WritePartitions(2, 1);
  EXPECT_EQ(RunAt(kT0 + minutes(40)), kExitOk);
  EXPECT_EQ(Current()->watermark, kT0 + minutes(10));
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// What a reader sees through a sink's CURRENT: id -> stored JSON of every
// live document of the full, overlaid by the chain oldest first.
std::map<std::string, std::string> SinkView(ObjectStore& sink) {
  std::map<std::string, std::string> view;
  auto got = GetSync(sink, std::string(kCurrentKey));
  EXPECT_TRUE(got.ok());
  if (!got.ok()) return view;
  CurrentPointer cur = *DecodeCurrent(got->body);
  std::vector<std::string> layers = {cur.full};
  layers.insert(layers.end(), cur.chain.begin(), cur.chain.end());
  for (const std::string& id : layers) {
    SegmentBytes s;
    s.manifest = *ParseManifest(GetSync(sink, GenerationFileKey(id, kManifestName))->body);
    for (const ManifestFile& f : s.manifest.files) s.files[f.name] = GetSync(sink, GenerationFileKey(id, f.name))->body;
    std::map<std::string, IndexDoc> docs;
    Status st = ReadSegmentDocs(s, &docs);
    EXPECT_TRUE(st.ok()) << id << ": " << st.ToString();
    for (auto& [doc_id, d] : docs) {
      if (d.tombstone) view.erase(doc_id);
      else view[doc_id] = d.stored;
    }
  }
  return view;
}

std::vector<ObjectInfo> PartitionObjects(ObjectStore& src, TimePoint t) {
  auto layout = PartitionLayout::Create("%Y/%m/%d/%H/%M", minutes(5));
  auto objs = ListAllSync(src, "updates/" + layout->Format(t));
  EXPECT_TRUE(objs.ok());
  std::erase_if(*objs, [](const ObjectInfo& o) { return o.size == 0; });
  return *objs;
}

// Issue 10 items 1-2: objects of partitions already committed are rewritten,
// deleted, or join late. The running daemon never wedges: its next batch
// ingests the source as listed now, counts what changed, and shows what a
// from-scratch build over the same source shows; a restarted daemon applies
// the same rule.
TEST_F(PipelineTest, ChangedDeletedAndLateObjectsInCommittedPartitionsAreIngestedAndCounted) {
  WritePartitions(0, 3);  // 00:00 .. 00:10
  options_.pipeline.trigger = TriggerMode::kInterval;
  options_.pipeline.trigger_interval = minutes(1);
  options_.source.relist_interval = minutes(5);
  options_.watchdog.max_commit_age = Duration(0);
  clock_.Set(kT0 + minutes(30));
  auto src = MemoryStore::OpenNamed(name_ + "-source");
  {
    Pipeline p(options_, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-sink"), &clock_);
    std::thread runner([&] { (void)p.Run(); });
    ASSERT_TRUE(WaitForWatermark(kT0 + minutes(10)));

    // Under the committed 00:00 and 00:05: one object rewritten (another's
    // records), one deleted, one late (moved in from the new 00:20).
    WritePartitions(3, 2);  // 00:15, 00:20
    std::vector<ObjectInfo> p0 = PartitionObjects(*src, kT0), p5 = PartitionObjects(*src, kT0 + minutes(5));
    std::vector<ObjectInfo> p20 = PartitionObjects(*src, kT0 + minutes(20));
    ASSERT_GE(p0.size(), 2u);
    ASSERT_GE(p5.size(), 1u);
    ASSERT_GE(p20.size(), 2u);
    ASSERT_TRUE(PutSync(*src, p0[0].key, GetSync(*src, p0[1].key)->body).ok());
    ASSERT_TRUE(DeleteSync(*src, p5[0].key).ok());
    const std::string late_key = p5[0].key.substr(0, p5[0].key.rfind('/') + 1) + "late-00000.ndjson";
    ASSERT_TRUE(PutSync(*src, late_key, GetSync(*src, p20[1].key)->body).ok());
    ASSERT_TRUE(DeleteSync(*src, p20[1].key).ok());

    // The relist interval has passed: the next trigger lists the whole
    // window and its batch commits 00:15 and 00:20 with the changes.
    clock_.Advance(minutes(5));
    ASSERT_TRUE(WaitForWatermark(kT0 + minutes(20)));
    p.Stop();
    runner.join();
    std::vector<BatchProgress> batches = p.board().RecentBatches();
    ASSERT_FALSE(batches.empty());
    uint64_t late = 0, changed = 0, failed = 0;
    for (const BatchProgress& b : batches) {
      late += b.late_objects;
      changed += b.changed_objects;
      failed += b.outcome == BatchOutcome::kFailed;
    }
    EXPECT_EQ(late, 1u);
    EXPECT_EQ(changed, 2u);  // one rewritten, one deleted
    EXPECT_EQ(failed, 0u);
  }
  auto sink = MemoryStore::OpenNamed(name_ + "-sink");
  auto scratch = MemoryStore::OpenNamed(name_ + "-scratch");
  Options once = options_;
  once.pipeline.trigger = TriggerMode::kAvailableNow;
  {
    Pipeline p(once, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-scratch"), &clock_);
    ASSERT_EQ(p.Run(), kExitOk);
  }
  EXPECT_EQ(SinkView(*sink), SinkView(*scratch)) << "the running daemon shows what a from-scratch build shows";

  // A restarted daemon: one more late object in 00:10 and a new 00:25. It
  // rebuilds its state from the chain and counts the late object the same way.
  WritePartitions(5, 1);
  std::vector<ObjectInfo> p25 = PartitionObjects(*src, kT0 + minutes(25));
  ASSERT_GE(p25.size(), 2u);
  std::vector<ObjectInfo> p10 = PartitionObjects(*src, kT0 + minutes(10));
  const std::string late2 = p10[0].key.substr(0, p10[0].key.rfind('/') + 1) + "late-00001.ndjson";
  ASSERT_TRUE(PutSync(*src, late2, GetSync(*src, p25[1].key)->body).ok());
  ASSERT_TRUE(DeleteSync(*src, p25[1].key).ok());
  options_ = once;
  ASSERT_EQ(RunAt(kT0 + minutes(40)), kExitOk);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].outcome, BatchOutcome::kCommitted) << batches_[0].message;
  EXPECT_EQ(batches_[0].late_objects, 1u);
  EXPECT_EQ(batches_[0].changed_objects, 0u);
  MemoryStore::DropNamed(name_ + "-scratch");
  scratch = MemoryStore::OpenNamed(name_ + "-scratch");
  {
    Pipeline p(once, MemoryStore::OpenNamed(name_ + "-source"), MemoryStore::OpenNamed(name_ + "-scratch"), &clock_);
    ASSERT_EQ(p.Run(), kExitOk);
  }
  EXPECT_EQ(SinkView(*sink), SinkView(*scratch));
  MemoryStore::DropNamed(name_ + "-scratch");
}

}  // namespace
}  // namespace freshet
