// The whole pipeline on S3: `freshet gen` writes the source to s3rver, the
// daemon reads it from and writes the sink to s3rver (available_now), and
// everything is compared with local runs: the source with the local gen's
// files, the sink byte for byte (downloaded with s3cmd, an independent
// client) with the same S3 source committed to a local directory, and
// `freshet query` answers against the oracle. (The reference reads its
// source from S3 too: manifests and generation ids name the inputs by
// ETag, and a local source's ETags are validators, not S3's MD5s.) Then the same run
// through a fault proxy that fails 20% of requests must commit the same
// bytes, with the retries in the daemon's S3 counters.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "e2e/freshet_cli.h"
#include "e2e/query_check.h"
#include "e2e/sink_check.h"
#include "testing/s3_server.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

const std::vector<std::string> kGenArgs = {"--start", "2025-06-01T00:00:00Z", "--partitions", "10", "--campaigns",
                                           "8", "--updates-per-partition", "120", "--seed", "33"};

// How every freshet run reaches `endpoint`: config through FRESHET_S3_*,
// credentials through the AWS variables (the chain's second source), no
// instance metadata lookups.
EnvVars S3Env(const testing::S3Server& server, const std::string& endpoint) {
  return {{"FRESHET_S3_ENDPOINT", endpoint},
          {"FRESHET_S3_ADDRESSING", "path"},
          {"AWS_ACCESS_KEY_ID", server.access_key()},
          {"AWS_SECRET_ACCESS_KEY", server.secret_key()},
          {"AWS_REGION", server.region()},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_PROFILE", ""},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}};
}

// Copies s3://<bucket>/<prefix>/ into `dir` with s3cmd (Debian's, installed
// by scripts/install-deps.sh test), talking to the server directly.
::testing::AssertionResult Download(const testing::S3Server& server, const std::string& work_dir,
                                    const std::string& bucket_prefix, const std::string& dir) {
  const std::string cfg = work_dir + "/s3cmd.cfg";
  std::ofstream(cfg) << "[default]\naccess_key = " << server.access_key() << "\nsecret_key = " << server.secret_key()
                     << "\nhost_base = 127.0.0.1:" << server.server_port() << "\nhost_bucket = 127.0.0.1:"
                     << server.server_port() << "\nuse_https = False\nsignature_v2 = False\n"
                     << "bucket_location = us-east-1\n";
  const std::string log = work_dir + "/s3cmd.log";
  const std::string cmd = "s3cmd --config='" + cfg + "' --no-progress get --recursive 's3://" + bucket_prefix +
                          "/' '" + dir + "/' >'" + log + "' 2>&1";
  std::filesystem::create_directories(dir);
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return ::testing::AssertionFailure() << cmd << " exited " << rc << ":\n" << text;
  }
  return ::testing::AssertionSuccess();
}

class S3PipelineE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (FreshetBinary().empty()) return;
    // The S3 server harness finds scripts/ and test/tools through
    // FRESHET_SOURCE_DIR; CTest gives the e2e tests only FRESHET_BIN.
    setenv("FRESHET_SOURCE_DIR", FRESHET_SOURCE_TREE, /*overwrite=*/0);
    // The references: the same input generated into a local directory, and
    // the same run from an S3 source into a local sink.
    ref_dir_ = new testing::TempDir("e2e-s3-ref");
    FreshetCli cli(ref_dir_->path());
    ASSERT_TRUE(cli.Gen(ref_dir_->Join("source"), kGenArgs));
    auto server = testing::S3Server::Start({.kind = testing::S3ServerKind::kS3rver, .buckets = {"src"}});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    std::vector<std::string> args = {"gen", "--out", "s3://src/ref"};
    args.insert(args.end(), kGenArgs.begin(), kGenArgs.end());
    const EnvVars env = S3Env(**server, (*server)->server_endpoint());
    RunResult gen = cli.Run(args, env);
    ASSERT_TRUE(gen.status.Exited(0)) << gen.Describe();
    EnvVars daemon = env;
    daemon.insert(daemon.end(), {{"FRESHET_SOURCE_URI", "s3://src/ref"},
                                 {"FRESHET_SINK_URI", "local://" + ref_dir_->Join("sink")},
                                 {"FRESHET_ADMIN_LISTEN", ""}});
    RunResult run = cli.Run(FreshetCli::RunArgs(), daemon);
    ASSERT_TRUE(run.status.Exited(0)) << run.Describe();
    EXPECT_TRUE((*server)->Stop().ok());
  }
  static void TearDownTestSuite() {
    delete ref_dir_;
    ref_dir_ = nullptr;
  }
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN is not set (run through CTest)";
    ASSERT_NE(ref_dir_, nullptr);
  }
  static std::string RefSource() { return ref_dir_->Join("source"); }
  static std::string RefSink() { return ref_dir_->Join("sink"); }

  // gen into s3://src/<name> on the server itself (no proxy).
  void GenToS3(FreshetCli& cli, const testing::S3Server& server, const std::string& name) {
    std::vector<std::string> args = {"gen", "--out", "s3://src/" + name};
    args.insert(args.end(), kGenArgs.begin(), kGenArgs.end());
    RunResult gen = cli.Run(args, S3Env(server, server.server_endpoint()));
    ASSERT_TRUE(gen.status.Exited(0)) << gen.Describe();
  }

  static EnvVars DaemonS3(const std::string& name) {
    return {{"FRESHET_SOURCE_URI", "s3://src/" + name},
            {"FRESHET_SINK_URI", "s3://sink/" + name},
            {"FRESHET_ADMIN_LISTEN", ""}};
  }

  static testing::TempDir* ref_dir_;
  testing::TempDir dir_{"e2e-s3"};
  FreshetCli cli_{dir_.path()};
};
testing::TempDir* S3PipelineE2e::ref_dir_ = nullptr;

// Planted credentials (s3rver 3.7.1 accepts any): no run may print them.
constexpr char kPlantedSecret[] = "planted-Secret-7f3a9c/e2e+KEY";
constexpr char kPlantedToken[] = "planted-Token-51d0e7";

TEST_F(S3PipelineE2e, SameBytesAndAnswersAsTheLocalStore) {
  auto server = testing::S3Server::Start({.kind = testing::S3ServerKind::kS3rver, .buckets = {"src", "sink"}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EnvVars env = S3Env(**server, (*server)->endpoint());
  env.insert(env.end(), {{"AWS_SECRET_ACCESS_KEY", kPlantedSecret},
                         {"AWS_SESSION_TOKEN", kPlantedToken},
                         {"FRESHET_LOG_LEVEL", "debug"}});
  cli_.set_base_env(env);
  GenToS3(cli_, **server, "ads");
  if (HasFatalFailure()) return;

  // What gen wrote reads back, through s3cmd, as the local gen's files.
  ASSERT_TRUE(Download(**server, dir_.path(), "src/ads", dir_.Join("source-copy")));
  EXPECT_TRUE(SameTree(RefSource(), dir_.Join("source-copy")));

  RunResult run = cli_.Run(FreshetCli::RunArgs(), DaemonS3("ads"));
  ASSERT_TRUE(run.status.Exited(0)) << run.Describe();
  EXPECT_NE(run.err.find("S3 s3://sink/ads"), std::string::npos) << "no S3 counters in the exit log";

  // Every object of the sink (generations, CURRENT, checkpoint) is
  // byte-identical to the local run's.
  const std::string copy = dir_.Join("sink-copy");
  ASSERT_TRUE(Download(**server, dir_.path(), "sink/ads", copy));
  EXPECT_TRUE(SameTree(RefSink(), copy));
  ASSERT_TRUE(CheckSinkConsistent(copy));

  // The reader on S3 answers as the oracle says.
  GroundTruth truth;
  ASSERT_TRUE(ScanCommitted(RefSource(), copy, OracleSchema::Ads(), &truth));
  QueryCompareStats st = CompareRandomQueries(cli_, "s3://sink/ads", truth, /*seed=*/7, /*count=*/60);
  EXPECT_EQ(st.mismatches, 0);
  EXPECT_GT(st.nonempty, 0);

  // inspect and verify work on S3 too: the live generations rebuild from
  // their S3 inputs to the same bytes.
  RunResult inspect = cli_.Run({"inspect", "--sink", "s3://sink/ads", "--verify"});
  EXPECT_TRUE(inspect.status.Exited(0)) << inspect.Describe();
  RunResult verify = cli_.Run({"verify", "--sink", "s3://sink/ads", "--source", "s3://src/ads"});
  EXPECT_TRUE(verify.status.Exited(0)) << verify.Describe() << "\n" << verify.out;
  EXPECT_NE(verify.out.find("identical"), std::string::npos) << verify.out;

  // A failing run (a bucket that does not exist) and check-config with the
  // secret in the config's environment spelling: still nothing printed.
  RunResult missing = cli_.Run({"query", "--sink", "s3://no-such-bucket/x", "country:US"});
  EXPECT_FALSE(missing.status.Exited(0));
  EXPECT_NE(missing.err.find("no-such-bucket"), std::string::npos) << missing.err;
  RunResult check = cli_.Run({"check-config", std::string(FRESHET_SOURCE_TREE) + "/conf/s3.json"}, {{"FRESHET_S3_ACCESS_KEY_ID", "AKIDPLANTED"},
                                                {"FRESHET_S3_SECRET_ACCESS_KEY", kPlantedSecret},
                                                {"FRESHET_S3_SESSION_TOKEN", kPlantedToken}});
  EXPECT_TRUE(check.status.Exited(0)) << check.Describe();
  EXPECT_NE(check.out.find("s3.secret_access_key = ****** (hidden)"), std::string::npos) << check.out;
  int scanned = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Join("logs"))) {
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find(kPlantedSecret), std::string::npos) << "the secret is in " << entry.path();
    EXPECT_EQ(text.find(kPlantedToken), std::string::npos) << "the session token is in " << entry.path();
    ++scanned;
  }
  EXPECT_GE(scanned, 10);
  EXPECT_TRUE((*server)->Stop().ok());
}

TEST_F(S3PipelineE2e, CommitsTheSameBytesThroughTwentyPercentFaults) {
  testing::FaultProxyOptions faults;
  faults.rate = 0.2;
  faults.seed = 2026;
  faults.stall = std::chrono::milliseconds(3000);  // longer than the request timeout below
  auto server = testing::S3Server::Start(
      {.kind = testing::S3ServerKind::kS3rver, .buckets = {"src", "sink"}, .proxy = faults});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  GenToS3(cli_, **server, "faulty");  // straight to the server
  if (HasFatalFailure()) return;

  cli_.set_base_env(S3Env(**server, (*server)->endpoint()));  // through the proxy
  EnvVars env = DaemonS3("faulty");
  env.insert(env.end(), {{"FRESHET_S3_MAX_ATTEMPTS", "12"},
                         {"FRESHET_S3_RETRY_BASE_DELAY", "5ms"},
                         {"FRESHET_S3_RETRY_MAX_DELAY", "200ms"},
                         {"FRESHET_S3_REQUEST_TIMEOUT", "1s"}});
  RunResult run = cli_.Run(FreshetCli::RunArgs(), env, std::chrono::minutes(5));
  ASSERT_TRUE(run.status.Exited(0)) << run.Describe();

  Result<testing::FaultProxyStats> proxy = (*server)->ProxyStats();
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_GT(proxy->faults, 0u);
  // The daemon's counters: "S3 s3://src/faulty (...): N requests (R retries, E errors, ...".
  uint64_t retries = 0;
  std::regex line(R"(S3 s3://(src|sink)/faulty \(.*?\): (\d+) requests \((\d+) retries, (\d+) errors)");
  for (std::sregex_iterator it(run.err.begin(), run.err.end(), line), end; it != end; ++it) {
    retries += std::stoull((*it)[3]);
  }
  EXPECT_GT(retries, 0u) << run.err;
  std::printf("fault run: proxy saw %llu requests, injected %llu faults; the daemon retried %llu times\n",
              static_cast<unsigned long long>(proxy->requests), static_cast<unsigned long long>(proxy->faults),
              static_cast<unsigned long long>(retries));
  for (const auto& [mode, n] : proxy->by_mode) std::printf("  %s: %llu\n", mode.c_str(), static_cast<unsigned long long>(n));

  // Nothing lost, nothing duplicated: the committed sink is the local run's, byte for byte.
  const std::string copy = dir_.Join("sink-copy");
  ASSERT_TRUE(Download(**server, dir_.path(), "sink/faulty", copy));
  EXPECT_TRUE(SameTree(RefSink(), copy));
  ASSERT_TRUE(CheckSinkConsistent(copy));
  EXPECT_TRUE((*server)->Stop().ok());
}

}  // namespace
}  // namespace freshet::e2e
