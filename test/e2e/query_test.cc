// gen -> run -> query, checked against the brute-force oracle.
//
// Each test generates a seeded source (snapshot + 12 update partitions with
// all of the generator's noise: LZ4 objects, malformed lines, duplicates,
// empty objects, _SUCCESS markers, cascading deletes) starting well in the
// past, so every partition is eligible; runs the daemon to completion; and
// compares `freshet query` with GroundTruth for hundreds of sampled queries.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e/freshet_cli.h"
#include "e2e/ground_truth.h"
#include "e2e/query_check.h"
#include "e2e/sink_check.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

constexpr char kStart[] = "2025-06-01T00:00:00Z";
constexpr int64_t kInterval = 300;  // gen's default 5m partitions
constexpr int kPartitions = 12;

int64_t StartSeconds() { return *ParseUtcSeconds(kStart); }
std::string PartitionTime(int i) {
  // kStart + i * 5m, formatted like the daemon (RFC 3339, seconds, Z).
  std::time_t t = static_cast<std::time_t>(StartSeconds() + i * kInterval);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class QueryE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN is not set (run through CTest)";
  }

  // A hierarchy source: 10 campaigns x 4 ad groups x 10 ads at the start.
  void GenHierarchy(uint64_t seed) {
    ASSERT_TRUE(cli_.Gen(source_, {"--start", kStart, "--partitions", std::to_string(kPartitions), "--campaigns",
                                   "10", "--updates-per-partition", "120", "--seed", std::to_string(seed)}));
  }

  // The oracle's own sanity: the noise was there and was skipped.
  static void ExpectNoisySource(const GroundTruth& truth, int partitions) {
    const ScanStats& s = truth.stats();
    EXPECT_EQ(s.partitions, static_cast<uint64_t>(partitions));
    EXPECT_EQ(s.version_ties, 0u) << "two different records share (type, id, version): the oracle is ambiguous";
    EXPECT_EQ(s.corrupt_objects, 0u);
    EXPECT_GT(s.lz4_objects, 0u);
    EXPECT_GT(s.bad_lines, 0u);
    EXPECT_GT(s.skipped_names, 0u) << "no _SUCCESS markers seen";
    EXPECT_GE(truth.docs().size(), 100u) << "too few servable docs for a meaningful comparison";
  }

  static void ExpectUsefulQueries(const QueryCompareStats& st) {
    EXPECT_GE(st.nonempty * 10, st.queries * 3) << "fewer than 30% of the sampled queries have answers";
    EXPECT_LT(st.nonempty, st.queries) << "no query without answers: the empty case is not exercised";
    EXPECT_GT(st.non_ascii, 0) << "no query with non-ASCII text";
    EXPECT_GT(st.any, 0) << "no --any query";
  }

  testing::TempDir dir_{"e2e-query"};
  FreshetCli cli_{dir_.path()};
  std::string source_ = dir_.Join("source");
  std::string sink_ = dir_.Join("sink");
};

TEST_F(QueryE2e, LatestPolicyMatchesBruteForce) {
  GenHierarchy(7);
  RunResult run = cli_.RunDaemon(source_, sink_);
  ASSERT_TRUE(run.status.Exited(0)) << run.Describe();

  // One freshness-first batch: straight to the newest partition, the rest
  // recorded as skipped, the delta on the full built from the snapshot.
  std::optional<SinkCurrent> current;
  ASSERT_TRUE(ReadCurrent(sink_, &current));
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->watermark, PartitionTime(kPartitions - 1));
  EXPECT_EQ(current->checkpoint.base_snapshot, std::optional<std::string>(kStart));
  ASSERT_TRUE(CheckSinkConsistent(sink_));
  GenerationManifest delta;
  ASSERT_TRUE(ReadManifest(sink_, current->delta, &delta));
  EXPECT_EQ(delta.base, current->full);
  EXPECT_EQ(delta.target, PartitionTime(kPartitions - 1));
  std::vector<std::string> skipped;
  for (int i = 0; i < kPartitions - 1; ++i) skipped.push_back(PartitionTime(i));
  EXPECT_EQ(delta.skipped, skipped);
  RunResult inspect = cli_.Run({"inspect", "--sink", "local://" + sink_, "--verify"});
  EXPECT_TRUE(inspect.status.Exited(0)) << inspect.Describe();

  GroundTruth truth;
  ASSERT_TRUE(ScanCommitted(source_, sink_, OracleSchema::Ads(), &truth));
  ExpectNoisySource(truth, kPartitions);
  ExpectSameDocSet(cli_, sink_, truth, "country");

  QueryCompareStats st = CompareRandomQueries(cli_, sink_, truth, /*seed=*/101, /*count=*/320);
  EXPECT_EQ(st.mismatches, 0);
  ExpectUsefulQueries(st);
  std::printf("latest: %zu servable docs, %d queries (%d non-ASCII, %d --any), %d with answers, %llu ids compared\n",
              truth.docs().size(), st.queries, st.non_ascii, st.any, st.nonempty,
              static_cast<unsigned long long>(st.hits));
}

// Sequential: every partition in order, one batch each. The first batches
// run one trigger at a time (`--trigger once`) so each intermediate CURRENT
// is checked (chain, watermark, answers); then the rest in one run.
TEST_F(QueryE2e, SequentialPolicyKeepsTheChainAndMatchesBruteForce) {
  GenHierarchy(8);
  const EnvVars sequential = {{"FRESHET_PIPELINE_POLICY", "sequential"}};
  for (int batch = 0; batch < 3; ++batch) {
    SCOPED_TRACE("batch " + std::to_string(batch + 1));
    RunResult run = cli_.RunDaemon(source_, sink_, sequential, "once");
    ASSERT_TRUE(run.status.Exited(0)) << run.Describe();
    std::optional<SinkCurrent> current;
    ASSERT_TRUE(ReadCurrent(sink_, &current));
    ASSERT_TRUE(current.has_value());
    EXPECT_EQ(current->watermark, PartitionTime(batch)) << "sequential must advance one partition per batch";
    EXPECT_EQ(current->checkpoint.next_batch_id, static_cast<uint64_t>(batch + 2));
    ASSERT_TRUE(CheckSinkConsistent(sink_));
    GenerationManifest delta;
    ASSERT_TRUE(ReadManifest(sink_, current->delta, &delta));
    EXPECT_EQ(delta.base, current->full);
    EXPECT_TRUE(delta.skipped.empty());
    GroundTruth truth;
    ASSERT_TRUE(ScanCommitted(source_, sink_, OracleSchema::Ads(), &truth));
    EXPECT_EQ(truth.stats().partitions, static_cast<uint64_t>(batch + 1));
    QueryCompareStats st = CompareRandomQueries(cli_, sink_, truth, /*seed=*/200 + batch, /*count=*/25);
    EXPECT_EQ(st.mismatches, 0);
  }

  RunResult run = cli_.RunDaemon(source_, sink_, sequential);
  ASSERT_TRUE(run.status.Exited(0)) << run.Describe();
  std::optional<SinkCurrent> current;
  ASSERT_TRUE(ReadCurrent(sink_, &current));
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->watermark, PartitionTime(kPartitions - 1));
  ASSERT_TRUE(CheckSinkConsistent(sink_));

  // The chain as the checkpoint remembers it: consecutive targets, each
  // retained delta on the same full, none skipping anything.
  const SinkCheckpoint& cp = current->checkpoint;
  ASSERT_FALSE(cp.recent_targets.empty());
  const int first = kPartitions - static_cast<int>(cp.recent_targets.size());
  for (size_t i = 0; i < cp.recent_targets.size(); ++i) {
    SCOPED_TRACE(cp.recent_deltas[i]);
    EXPECT_EQ(cp.recent_targets[i], PartitionTime(first + static_cast<int>(i)));
    ASSERT_TRUE(CheckGeneration(sink_, cp.recent_deltas[i]));
    GenerationManifest m;
    ASSERT_TRUE(ReadManifest(sink_, cp.recent_deltas[i], &m));
    EXPECT_EQ(m.base, current->full);
    EXPECT_EQ(m.target, cp.recent_targets[i]);
    EXPECT_EQ(m.watermark, cp.recent_targets[i]);
    EXPECT_TRUE(m.skipped.empty());
  }
  RunResult inspect = cli_.Run({"inspect", "--sink", "local://" + sink_, "--verify", "--all"});
  EXPECT_TRUE(inspect.status.Exited(0)) << inspect.Describe();

  GroundTruth truth;
  ASSERT_TRUE(ScanCommitted(source_, sink_, OracleSchema::Ads(), &truth));
  ExpectNoisySource(truth, kPartitions);
  ExpectSameDocSet(cli_, sink_, truth, "country");
  QueryCompareStats st = CompareRandomQueries(cli_, sink_, truth, /*seed=*/301, /*count=*/160);
  EXPECT_EQ(st.mismatches, 0);
  ExpectUsefulQueries(st);
}

// Flat documents (one level, no joins) under a config file with the flat
// schema; every record not deleted is servable.
TEST_F(QueryE2e, FlatCorpusMatchesBruteForce) {
  ASSERT_TRUE(cli_.Gen(source_, {"--flat", "--start", kStart, "--partitions", std::to_string(kPartitions), "--ads",
                                 "500", "--campaigns", "25", "--updates-per-partition", "120", "--seed", "9"}));
  const std::string config = dir_.Join("flat.json");
  std::ofstream(config) << kFlatGenConfig;
  RunResult check = cli_.Run({"check-config", config});
  ASSERT_TRUE(check.status.Exited(0)) << check.Describe();
  RunResult run = cli_.RunDaemon(source_, sink_, {}, "available_now", config);
  ASSERT_TRUE(run.status.Exited(0)) << run.Describe();
  std::optional<SinkCurrent> current;
  ASSERT_TRUE(ReadCurrent(sink_, &current));
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->watermark, PartitionTime(kPartitions - 1));
  ASSERT_TRUE(CheckSinkConsistent(sink_));

  GroundTruth truth;
  ASSERT_TRUE(ScanCommitted(source_, sink_, OracleSchema::Flat(), &truth));
  ExpectNoisySource(truth, kPartitions);
  ExpectSameDocSet(cli_, sink_, truth, "country");
  QueryCompareStats st = CompareRandomQueries(cli_, sink_, truth, /*seed=*/401, /*count=*/160);
  EXPECT_EQ(st.mismatches, 0);
  ExpectUsefulQueries(st);

  RunResult verify = cli_.Run({"verify", "--sink", "local://" + sink_, "--source", "local://" + source_, "--config",
                               config});
  EXPECT_TRUE(verify.status.Exited(0)) << verify.Describe();
}

}  // namespace
}  // namespace freshet::e2e
