// Kill and restart: the daemon SIGKILLs itself at every named crash point
// (FRESHET_CRASH_AT=<point>[@n], src/actors/crash_points.h), or the test
// SIGKILLs it at random moments. After every death:
//   - CURRENT is absent or names complete generations whose files match
//     their manifests (our own check and `freshet inspect --verify`);
//   - neither CURRENT's nor the checkpoint's watermark moved backwards;
//   - for named points, the sink shows the crash happened where named;
// and a restart without the crash variable finishes with CURRENT, the
// checkpoint and the live generations byte-identical to an uninterrupted
// run over the same source.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>
#include <string_view>
#include <ostream>

#include "actors/crash_points.h"
#include "e2e/child_process.h"
#include "e2e/freshet_cli.h"
#include "e2e/sink_check.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

constexpr char kCrashStart[] = "2025-06-01T00:00:00Z";
constexpr int64_t kInterval = 300;

std::string PartitionTime(int i) {
  std::time_t t = static_cast<std::time_t>(*ParseUtcSeconds(kCrashStart) + i * kInterval);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool AnyObjectNamed(const std::string& sink, const std::string& name) {
  for (const auto& [key, bytes] : ReadTree(sink)) {
    if (key == name || key.ends_with("/" + name)) return true;
  }
  return false;
}

class CrashE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN is not set (run through CTest)";
  }

  void Generate(int partitions, uint64_t seed, int updates_per_partition = 100) {
    partitions_ = partitions;
    ASSERT_TRUE(cli_.Gen(source_, {"--start", kCrashStart, "--partitions", std::to_string(partitions), "--campaigns", "8",
                                   "--updates-per-partition", std::to_string(updates_per_partition), "--seed",
                                   std::to_string(seed)}));
  }

  static EnvVars PolicyEnv(bool sequential) {
    return {{"FRESHET_PIPELINE_POLICY", sequential ? "sequential" : "latest"}};
  }

  // An uninterrupted run: the bytes every crashed-and-restarted run must end with.
  std::string Reference(bool sequential) {
    std::string sink = dir_.Join(sequential ? "reference-sequential" : "reference-latest");
    RunResult r = cli_.RunDaemon(source_, sink, PolicyEnv(sequential));
    EXPECT_TRUE(r.status.Exited(0)) << r.Describe();
    EXPECT_TRUE(CheckSinkConsistent(sink));
    return sink;
  }

  // What must hold after any death: consistent sink, inspect agrees, no
  // watermark regressed since `before`.
  void ExpectSafeAfterDeath(const std::string& sink, const SinkProgress& before, SinkProgress* after) {
    EXPECT_TRUE(CheckSinkConsistent(sink));
    RunResult inspect = cli_.Run({"inspect", "--sink", "local://" + sink, "--verify"});
    EXPECT_TRUE(inspect.status.Exited(0)) << inspect.Describe() << "\n" << inspect.out;
    ASSERT_TRUE(ReadProgress(sink, after));
    EXPECT_TRUE(ProgressNotRegressed(before, *after));
  }

  // Restart without a crash point, to completion; then compare with the reference.
  void FinishAndCompare(const std::string& sink, bool sequential, const std::string& reference,
                        const SinkProgress& before) {
    RunResult r = cli_.RunDaemon(source_, sink, PolicyEnv(sequential));
    ASSERT_TRUE(r.status.Exited(0)) << "restart: " << r.Describe();
    EXPECT_TRUE(CheckSinkConsistent(sink));
    SinkProgress after;
    ASSERT_TRUE(ReadProgress(sink, &after));
    EXPECT_TRUE(ProgressNotRegressed(before, after));
    EXPECT_TRUE(SameLiveBytes(sink, reference));
    size_t temps = CountTempFiles(sink);
    if (temps > 0) std::printf("note: %zu local-store temp file(s) left in %s by the kill\n", temps, sink.c_str());
  }

  testing::TempDir dir_{"e2e-crash"};
  FreshetCli cli_{dir_.path()};
  std::string source_ = dir_.Join("source");
  int partitions_ = 0;
};

// ---------------------------------------------------------------------------
// Every named crash point.

struct PointSpec {
  const char* name;
  bool current_written;  // CURRENT of the crashing batch (with its checkpoint) is on disk
};

constexpr PointSpec kPoints[] = {
    {"before-segments", false}, {"mid-segments", false}, {"before-manifest", false},
    {"before-current", false},  {"after-current", true}, {"mid-retention", true},
};

// Test names and CTest listings show the point, not the struct's bytes.
void PrintTo(const PointSpec& p, std::ostream* os) { *os << p.name; }

class CrashPointE2e : public CrashE2e, public ::testing::WithParamInterface<PointSpec> {
 protected:
  // Crashes a fresh sink at the n-th hit of the point, checks, restarts.
  void CrashAndRestart(bool sequential, int hit, const std::string& reference) {
    const PointSpec& p = GetParam();
    SCOPED_TRACE(std::string(sequential ? "sequential" : "latest") + ", FRESHET_CRASH_AT=" + p.name + "@" +
                 std::to_string(hit));
    const std::string sink =
        dir_.Join(std::string(sequential ? "seq" : "latest") + "-" + std::to_string(hit) + "-sink");
    SinkProgress before;  // fresh sink: nothing committed
    EnvVars env = PolicyEnv(sequential);
    env.push_back({"FRESHET_CRASH_AT", std::string(p.name) + "@" + std::to_string(hit)});
    RunResult r = cli_.RunDaemon(source_, sink, env);
    ASSERT_TRUE(r.status.KilledBy(SIGKILL)) << "expected the crash point to SIGKILL the run: " << r.Describe();

    SinkProgress after;
    ExpectSafeAfterDeath(sink, before, &after);

    // The crash happened where it is named. Batch k's target: the newest
    // partition (latest: one batch), or partition k-1 (sequential).
    std::optional<SinkCurrent> current;
    ASSERT_TRUE(ReadCurrent(sink, &current));
    auto wm = [](const auto& opt) { return opt ? opt->watermark.value_or("null") : std::string("absent"); };
    if (std::string_view(p.name) == "mid-retention") {
      // Retention first deletes once more generations exist than it keeps:
      // a later batch; it is fully committed.
      ASSERT_TRUE(current);
      EXPECT_EQ(current->watermark, current->checkpoint.watermark);
    } else {
      const int k = sequential ? hit : 1;
      auto target = [&](int batch) -> std::string {
        if (batch < 1) return "absent";
        return sequential ? PartitionTime(batch - 1) : PartitionTime(partitions_ - 1);
      };
      EXPECT_EQ(wm(current), target(p.current_written ? k : k - 1));
      if (k == 1) {
        const std::string_view n = p.name;
        // The killed daemon's writer lease stays behind (its restart on this
        // host takes it over: the pid is dead); nothing else may.
        auto tree = ReadTree(sink);
        EXPECT_EQ(tree.erase("_freshet/writer.json"), 1u) << "the writer lease was taken at start-up";
        if (n == "before-segments") {
          EXPECT_TRUE(tree.empty()) << "objects written before the segments";
        } else if (n == "mid-segments") {
          EXPECT_FALSE(tree.empty()) << "no segment file before the mid-segments crash";
          EXPECT_FALSE(AnyObjectNamed(sink, "manifest.json"));
        } else if (n == "before-manifest") {
          EXPECT_FALSE(AnyObjectNamed(sink, "manifest.json"));
        } else if (n == "before-current") {
          EXPECT_TRUE(AnyObjectNamed(sink, "manifest.json"));
        }
      }
    }
    FinishAndCompare(sink, sequential, reference, after);
  }
};

TEST_P(CrashPointE2e, SinkStaysValidAndRestartConverges) {
  // Retention deletes segments once merges retired them and the batches
  // that could still read them aged out: later than the other points.
  const bool retention = std::string_view(GetParam().name) == "mid-retention";
  Generate(retention ? 18 : 12, 31);
  const std::string ref_seq = Reference(/*sequential=*/true);
  if (std::string_view(GetParam().name) != "mid-retention") {
    // One freshness-first batch (full + delta); it never reaches retention.
    const std::string ref_latest = Reference(/*sequential=*/false);
    CrashAndRestart(/*sequential=*/false, 1, ref_latest);
  }
  CrashAndRestart(/*sequential=*/true, 1, ref_seq);
  CrashAndRestart(/*sequential=*/true, 2, ref_seq);
}

INSTANTIATE_TEST_SUITE_P(AllPoints, CrashPointE2e, ::testing::ValuesIn(kPoints),
                         [](const ::testing::TestParamInfo<PointSpec>& info) {
                           std::string name;
                           for (const char* c = info.param.name; *c; ++c) name.push_back(*c == '-' ? '_' : *c);
                           return name;
                         });

// A crash point added to the daemon must be added here too.
TEST(CrashPointList, CoversEveryDaemonCrashPoint) {
  for (std::string_view point : kCrashPoints) {
    bool covered =
        std::any_of(std::begin(kPoints), std::end(kPoints), [&](const PointSpec& p) { return p.name == point; });
    EXPECT_TRUE(covered) << point << " (src/actors/crash_points.h) has no end-to-end test";
  }
  EXPECT_EQ(std::size(kPoints), std::size(kCrashPoints));
}

// ---------------------------------------------------------------------------
// SIGKILL at random moments of a multi-batch sequential run.

TEST_F(CrashE2e, RandomKillsThenFinish) {
  Generate(20, 41, /*updates_per_partition=*/300);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string reference = Reference(/*sequential=*/true);
  // Kill times scale with an uninterrupted run (a quarter of it at most),
  // so on fast and slow hosts alike they land in start-up, in batches and in
  // commits, and several rounds pass before the work is done.
  const uint64_t run_ms = std::max<int64_t>(
      20, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  const std::string sink = dir_.Join("sink");
  uint64_t rng = 20261122;  // fixed: a failure must reproduce
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  SinkProgress progress;
  int kills = 0, finished_early = 0;
  std::string trail;  // the committed partition after each round
  for (int round = 0; round < 8; ++round) {
    const auto delay = std::chrono::milliseconds(3 + next(run_ms / 4 + 1));
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " + std::to_string(delay.count()) + " ms");
    ChildProcess child;
    ProcessSpec spec = cli_.Spec(FreshetCli::RunArgs(), FreshetCli::DaemonEnv(source_, sink, PolicyEnv(true)));
    ASSERT_EQ(child.Start(spec), "");
    // The kill schedule, not a timing assertion: a run that ends first is fine.
    std::optional<ExitStatus> early = child.WaitFor(delay);
    ExitStatus st = early ? *early : child.Kill();
    if (early) {
      ASSERT_TRUE(st.Exited(0)) << st.Describe() << "\n" << ReadFileOrEmpty(spec.stderr_path);
      ++finished_early;
    } else {
      ASSERT_TRUE(st.KilledBy(SIGKILL)) << st.Describe();
      ++kills;
    }
    SinkProgress after;
    ExpectSafeAfterDeath(sink, progress, &after);
    progress = after;
    const std::optional<int64_t>& wm = after.current_watermark;
    trail += (round ? " " : "") +
             (wm ? std::to_string((*wm - *ParseUtcSeconds(kCrashStart)) / kInterval) : std::string("-"));
    if (early) break;  // all done: later rounds would only start idle runs
  }
  std::printf("random kills: %d killed, %d finished before the kill (uninterrupted run: %llu ms); watermark "
              "partition after each round: %s\n",
              kills, finished_early, static_cast<unsigned long long>(run_ms), trail.c_str());
  EXPECT_GE(kills, 2) << "the kills did not land inside the run";
  FinishAndCompare(sink, /*sequential=*/true, reference, progress);
}

}  // namespace
}  // namespace freshet::e2e
