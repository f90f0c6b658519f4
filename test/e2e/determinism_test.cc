// Determinism and idempotence on real runs: the same source and config give
// byte-identical sinks (every generation file, CURRENT, the checkpoint)
// whatever the parallelism and the memory budget, and `freshet verify` rebuilds the live
// generations from their recorded inputs to the same bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "e2e/freshet_cli.h"
#include "e2e/sink_check.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

class DeterminismE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN is not set (run through CTest)";
    ASSERT_TRUE(cli_.Gen(source_, {"--start", "2025-06-01T00:00:00Z", "--partitions", "12", "--campaigns", "10",
                                   "--updates-per-partition", "120", "--seed", "21"}));
  }

  // Runs to completion into `sink` with these parallelism settings.
  void RunInto(const std::string& sink, const std::string& policy, const std::string& fetch,
               const std::string& compute) {
    RunResult r = cli_.RunDaemon(source_, sink,
                                 {{"FRESHET_PIPELINE_POLICY", policy},
                                  {"FRESHET_PIPELINE_FETCH_PARALLELISM", fetch},
                                  {"FRESHET_PIPELINE_COMPUTE_THREADS", compute}});
    ASSERT_TRUE(r.status.Exited(0)) << r.Describe();
    ASSERT_TRUE(CheckSinkConsistent(sink));
  }

  void ExpectVerifyIdentical(const std::string& sink, const std::vector<std::string>& generations = {}) {
    std::vector<std::string> args = {"verify", "--sink", "local://" + sink, "--source", "local://" + source_};
    for (const std::string& g : generations) {
      args.push_back("--generation");
      args.push_back(g);
    }
    RunResult r = cli_.Run(args);
    EXPECT_TRUE(r.status.Exited(0)) << r.Describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("identical"), std::string::npos) << r.out;
  }

  testing::TempDir dir_{"e2e-determinism"};
  FreshetCli cli_{dir_.path()};
  std::string source_ = dir_.Join("source");
};

TEST_F(DeterminismE2e, LatestRunsAreByteIdenticalAndVerify) {
  const std::string a = dir_.Join("sink-a"), b = dir_.Join("sink-b");
  RunInto(a, "latest", "8", "4");
  RunInto(b, "latest", "1", "1");
  EXPECT_TRUE(SameTree(a, b));
  EXPECT_TRUE(SameLiveBytes(a, b));
  ExpectVerifyIdentical(a);

  // A second run over a finished sink has nothing to do and changes nothing.
  RunResult again = cli_.RunDaemon(source_, a);
  ASSERT_TRUE(again.status.Exited(0)) << again.Describe();
  EXPECT_TRUE(SameTree(a, b));
}

TEST_F(DeterminismE2e, SequentialRunsAreByteIdenticalAndVerify) {
  const std::string c = dir_.Join("sink-c"), d = dir_.Join("sink-d");
  RunInto(c, "sequential", "8", "4");
  RunInto(d, "sequential", "2", "1");
  // Every retained generation, not only the live ones.
  EXPECT_TRUE(SameTree(c, d));
  ExpectVerifyIdentical(c);

  // An older retained delta rebuilds to the same bytes too.
  std::optional<SinkCurrent> current;
  ASSERT_TRUE(ReadCurrent(c, &current));
  ASSERT_TRUE(current.has_value());
  ASSERT_GE(current->checkpoint.recent_deltas.size(), 2u);
  ExpectVerifyIdentical(c, {current->checkpoint.recent_deltas.front()});
}

// Issue 11's rule: neither pipeline.memory_budget nor the thread count
// changes a byte. A full of 80,000 flat documents (about 55 MB of parsed
// records) at the smallest budget, 64 MiB, spills its records as sorted
// runs and holds its fetches back; at 4 GiB it does neither.
TEST(BudgetE2e, TheMemoryBudgetAndTheThreadsChangeNoByte) {
  if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN is not set (run through CTest)";
  testing::TempDir dir("e2e-budget");
  FreshetCli cli(dir.path());
  const std::string source = dir.Join("source");
  ASSERT_TRUE(cli.Gen(source, {"--flat", "--start", "2025-06-01T00:00:00Z", "--partitions", "2", "--ads", "80000",
                               "--updates-per-partition", "200", "--seed", "4"}));
  const std::string config = dir.Join("flat.json");
  std::ofstream(config) << kFlatGenConfig;
  const std::string big = dir.Join("sink-4g"), small = dir.Join("sink-64m");
  RunResult a = cli.RunDaemon(source, big,
                              {{"FRESHET_PIPELINE_COMPUTE_THREADS", "4"},
                               {"FRESHET_PIPELINE_MEMORY_BUDGET", "4294967296"},
                               {"FRESHET_PIPELINE_SCRATCH_DIR", dir.Join("scratch")}},
                              "available_now", config);
  ASSERT_TRUE(a.status.Exited(0)) << a.Describe();
  EXPECT_EQ((a.out + a.err).find("spilled"), std::string::npos) << "nothing spills at 4 GiB";
  RunResult b = cli.RunDaemon(source, small,
                              {{"FRESHET_PIPELINE_COMPUTE_THREADS", "1"},
                               {"FRESHET_PIPELINE_MEMORY_BUDGET", "67108864"},
                               {"FRESHET_PIPELINE_SCRATCH_DIR", dir.Join("scratch")}},
                              "available_now", config);
  ASSERT_TRUE(b.status.Exited(0)) << b.Describe();
  EXPECT_NE((b.out + b.err).find("spilled to"), std::string::npos) << b.out << b.err;
  EXPECT_TRUE(SameTree(big, small));
  EXPECT_TRUE(std::filesystem::is_empty(dir.Join("scratch"))) << "runs and spools are removed after the batch";
}

}  // namespace
}  // namespace freshet::e2e
