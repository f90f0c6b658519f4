// The daemon as an operator meets it: signals, exit codes, config errors.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/freshet_cli.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

class OperationsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN not set";
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_.Join(name);
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_{"e2e-operations"};
  FreshetCli cli_{dir_.path()};
};

TEST_F(OperationsE2e, SigtermDrainsAndExitsZero) {
  std::string source = dir_.Join("source"), sink = dir_.Join("sink");
  ASSERT_TRUE(cli_.Gen(source, {"--start", "2026-01-01T00:00:00Z", "--partitions", "3", "--campaigns", "5"}));
  ChildProcess daemon;
  ProcessSpec spec = cli_.Spec(FreshetCli::RunArgs("interval"),
                               FreshetCli::DaemonEnv(source, sink, {{"FRESHET_PIPELINE_TRIGGER_INTERVAL", "1h"}}));
  ASSERT_EQ(daemon.Start(spec), "");
  // Wait for the first commit, then ask it to stop.
  bool committed = false;
  for (int i = 0; i < 600 && !committed; ++i) {
    committed = std::filesystem::exists(sink + "/CURRENT");
    if (!committed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(committed) << ReadFileOrEmpty(spec.stderr_path);
  ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
  auto status = daemon.WaitFor(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "still running 30s after SIGTERM";
  EXPECT_TRUE(status->Exited(0)) << status->Describe();
  EXPECT_NE(ReadFileOrEmpty(spec.stderr_path).find("draining (SIGTERM)"), std::string::npos);
}

TEST_F(OperationsE2e, ConfigErrorsNameTheKeyAndExitTwo) {
  std::string bad = WriteFile("bad.json", R"({
    // a typo in a key
    "sink": {"retain_generation": 3},
  })");
  RunResult r = cli_.Run({"check-config", bad});
  EXPECT_TRUE(r.status.Exited(2)) << r.Describe();
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retain_generations"), std::string::npos) << r.err;  // the suggestion
  r = cli_.Run({"run", "--config", bad});
  EXPECT_TRUE(r.status.Exited(2)) << r.Describe();

  std::string grace = WriteFile("grace.json", R"({"pipeline": {"grace": "5 minutes"}})");
  r = cli_.Run({"check-config", grace});
  EXPECT_TRUE(r.status.Exited(2)) << r.Describe();
  EXPECT_NE(r.err.find("pipeline.grace"), std::string::npos) << r.err;

  r = cli_.Run({"run", "--trigger", "sometimes"});
  EXPECT_TRUE(r.status.Exited(2)) << r.Describe();
  EXPECT_NE(r.err.find("--trigger"), std::string::npos) << r.err;
}

TEST_F(OperationsE2e, ShippedConfigsPassCheckConfig) {
  const char* src = FRESHET_SOURCE_TREE;
  for (const char* name : {"conf/local.json", "conf/local-flat.json"}) {
    RunResult r = cli_.Run({"check-config", std::string(src) + "/" + name});
    EXPECT_TRUE(r.status.Exited(0)) << name << ": " << r.Describe();
    EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;
  }
}

TEST_F(OperationsE2e, UnknownCrashPointIsAUsageError) {
  std::string source = dir_.Join("source"), sink = dir_.Join("sink");
  std::filesystem::create_directories(source);
  RunResult r = cli_.RunDaemon(source, sink, {{"FRESHET_CRASH_AT", "no-such-point"}});
  EXPECT_TRUE(r.status.Exited(2)) << r.Describe();
  EXPECT_NE(r.err.find("no-such-point"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace freshet::e2e
