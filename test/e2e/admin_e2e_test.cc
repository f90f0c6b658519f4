// The operations surface of the real binary: the admin endpoint with a
// bearer token, /metrics through `promtool check metrics` and scraped by a
// real Prometheus server, the status page drawn by headless Chromium,
// sd_notify to a socket standing in for systemd, restart counting across
// kill -9 / clean stop / planned restart, the second signal, and JSON logs
// without secrets. Prometheus and Chromium come from Debian
// (scripts/install-deps.sh test); the tests fail, not skip, without them.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/freshet_cli.h"
#include "testing/background_process.h"
#include "testing/headless_chromium.h"
#include "testing/prometheus_server.h"
#include "testing/raw_http.h"
#include "testing/temp_dir.h"

namespace freshet::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::RawHttp;
using testing::RawHttpResponse;

constexpr char kToken[] = "e2eAdminToken-PLANTED-7c1d";
constexpr char kAdminStart[] = "2026-01-01T00:00:00Z";
constexpr int kPartitions = 6;
// The newest generated partition: kAdminStart + 5 * 5m.
constexpr char kLastPartition[] = "2026-01-01T00:25:00Z";
constexpr double kLastPartitionUnix = 1767225600 + 25 * 60;

std::string Source(const std::string& source_tree_path) {
  std::ifstream in(std::string(FRESHET_SOURCE_TREE) + "/" + source_tree_path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double Sample(const std::string& exposition, const std::string& series) {
  std::regex re("(^|\n)" + std::regex_replace(series, std::regex(R"([{}\\".+])"), R"(\$&)") + " ([^\n]+)");
  std::smatch m;
  if (!std::regex_search(exposition, m, re)) return std::nan("");
  return std::stod(m[2].str());
}

class AdminE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FreshetBinary().empty()) GTEST_SKIP() << "FRESHET_BIN not set";
    source_ = dir_.Join("source");
    sink_ = dir_.Join("sink");
  }
  void Gen(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--start", kAdminStart, "--partitions", std::to_string(kPartitions), "--campaigns",
                                     "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(cli_.Gen(source_, args));
  }
  // One partition per second, every one of them built (sequential), admin on a free port.
  EnvVars Env(EnvVars extra = {}) {
    EnvVars env = {{"FRESHET_ADMIN_LISTEN", "127.0.0.1:0"},
                   {"FRESHET_PIPELINE_TRIGGER_INTERVAL", "1s"},
                   {"FRESHET_PIPELINE_POLICY", "sequential"}};
    env.insert(env.end(), extra.begin(), extra.end());
    return FreshetCli::DaemonEnv(source_, sink_, env);
  }
  // Starts `freshet run` and waits for "admin endpoint on http://127.0.0.1:<port>" in its log.
  uint16_t StartDaemon(ChildProcess* daemon, const EnvVars& env, const std::string& trigger = "interval") {
    ProcessSpec spec = cli_.Spec(FreshetCli::RunArgs(trigger), env);
    stderr_path_ = spec.stderr_path;
    EXPECT_EQ(daemon->Start(spec), "");
    static const std::regex kListening(R"(admin endpoint on http://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 600; ++i) {
      std::smatch m;
      std::string log = ReadFileOrEmpty(stderr_path_);
      if (std::regex_search(log, m, kListening)) return static_cast<uint16_t>(std::stoi(m[1].str()));
      if (!daemon->running()) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "no admin endpoint in the log:\n" << ReadFileOrEmpty(stderr_path_);
    return 0;
  }
  static RawHttpResponse Get(uint16_t port, const std::string& path, const std::string& token = "") {
    testing::RawHttpRequest req{.target = path};
    if (!token.empty()) req.headers.emplace_back("Authorization", std::string("Bearer ") + token);
    return RawHttp(port, req, seconds(10));
  }
  // Polls /status until its watermark is the newest partition.
  static bool WaitForWatermark(uint16_t port, const std::string& token = "", const char* want = kLastPartition) {
    for (int i = 0; i < 1200; ++i) {
      RawHttpResponse r = Get(port, "/status", token);
      if (r.ok() && r.body.find(std::string("\"watermark\":\"") + want + "\",\"freshness") != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  ExitStatus Terminate(ChildProcess* daemon) {
    EXPECT_EQ(::kill(daemon->pid(), SIGTERM), 0);
    auto status = daemon->WaitFor(seconds(60));
    EXPECT_TRUE(status.has_value()) << "still running 60 s after SIGTERM";
    return status.value_or(ExitStatus{true, 0, SIGKILL});
  }
  std::string Log() const { return ReadFileOrEmpty(stderr_path_); }

  testing::TempDir dir_{"e2e-admin"};
  FreshetCli cli_{dir_.path()};
  std::string source_, sink_, stderr_path_;
};

TEST_F(AdminE2e, TokenGuardedMetricsPassPromtoolAndPrometheusScrapesTheWatermark) {
  Gen();
  ChildProcess daemon;
  const uint16_t port = StartDaemon(&daemon, Env({{"FRESHET_ADMIN_TOKEN", kToken}}));
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitForWatermark(port, kToken)) << Log();

  // The token: probes are open, the rest needs it.
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_EQ(Get(port, "/readyz").status, 200);
  for (const char* path : {"/metrics", "/status", "/"}) {
    EXPECT_EQ(Get(port, path).status, 401) << path;
    EXPECT_EQ(Get(port, path, "wrong-token").status, 401) << path;
  }
  RawHttpResponse metrics = Get(port, "/metrics", kToken);
  ASSERT_EQ(metrics.status, 200) << metrics.Describe();
  const std::string& m = metrics.body;
  EXPECT_EQ(Sample(m, "freshet_watermark_timestamp_seconds"), kLastPartitionUnix) << m;
  EXPECT_EQ(Sample(m, "freshet_batches_total{outcome=\"committed\"}"), kPartitions);
  EXPECT_GT(Sample(m, "freshet_object_store_requests_total{store=\"source\",operation=\"get\",status=\"ok\"}"), 0);
  EXPECT_GT(Sample(m, "freshet_object_store_requests_total{store=\"sink\",operation=\"put\",status=\"ok\"}"), 0);
  EXPECT_EQ(Sample(m, "freshet_restarts_total{kind=\"unplanned\"}"), 0);
  EXPECT_GT(Sample(m, "freshet_event_loop_lag_seconds_count"), 0);

  // promtool: no errors, no lint warnings.
  std::string file = dir_.Join("metrics.txt");
  std::ofstream(file) << m;
  std::string promtool = testing::FindInPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool missing: run scripts/install-deps.sh test (Debian package prometheus)";
  testing::CommandResult check =
      testing::RunCommand({.argv = {"/bin/sh", "-c", "'" + promtool + "' check metrics < '" + file + "'"}}, seconds(60));
  EXPECT_TRUE(check.Ok()) << check.Describe();
  EXPECT_EQ(check.out + check.err, "") << "promtool complained";

  // Every metric the Grafana dashboard charts is exported (the S3 ones by
  // the S3 store's collector, which a local run does not have).
  std::string dashboard = Source("conf/grafana/freshet-dashboard.json");
  ASSERT_FALSE(dashboard.empty());
  std::set<std::string> used;
  static const std::regex kName(R"(\b((?:freshet|process)_[a-z_]+?)(?:_bucket|_sum|_count)?\b)");
  for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), kName), end; it != end; ++it) {
    used.insert((*it)[1].str());
  }
  std::string s3_metrics = Source("src/storage/s3/s3_metrics.cc");
  for (const std::string& name : used) {
    if (name.starts_with("freshet_s3_")) {
      EXPECT_NE(s3_metrics.find('"' + name + '"'), std::string::npos) << name << " is not exported by s3_metrics.cc";
    } else {
      EXPECT_NE(m.find("# TYPE " + name + " "), std::string::npos) << name << " is charted but not exported";
    }
  }

  // A real Prometheus scrapes the daemon (with the token) and answers
  // queries for the watermark.
  testing::PrometheusServer prom;
  ASSERT_EQ(prom.Start({.targets = {"127.0.0.1:" + std::to_string(port)}, .bearer_token = kToken}), "");
  std::string answer;
  for (int i = 0; i < 600; ++i) {
    answer = prom.Query("freshet_watermark_timestamp_seconds");
    if (answer.find("\"result\":[{") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(answer.c_str()).HasParseError()) << answer << "\n" << prom.Targets() << "\n" << prom.Log();
  ASSERT_STREQ(doc["status"].GetString(), "success") << answer;
  const auto& result = doc["data"]["result"];
  ASSERT_EQ(result.Size(), 1u) << answer << "\n" << prom.Targets();
  EXPECT_STREQ(result[0]["metric"]["job"].GetString(), "freshet");
  EXPECT_EQ(std::stod(result[0]["value"][1].GetString()), kLastPartitionUnix) << answer;
  std::string up = prom.Query("up{job=\"freshet\"}");
  EXPECT_NE(up.find("\"value\":["), std::string::npos) << up;
  EXPECT_NE(up.find(",\"1\"]"), std::string::npos) << up;
  prom.Stop();

  // Nothing the daemon serves or logs carries the token.
  for (const char* path : {"/metrics", "/status", "/"}) {
    EXPECT_EQ(Get(port, path, kToken).body.find(kToken), std::string::npos) << path;
  }
  ExitStatus status = Terminate(&daemon);
  EXPECT_TRUE(status.Exited(0)) << status.Describe();
  EXPECT_EQ(Log().find(kToken), std::string::npos) << "the token reached the log";
}

TEST_F(AdminE2e, StatusPageDrawsItsChartsInHeadlessChromium) {
  Gen();
  ChildProcess daemon;
  const uint16_t port = StartDaemon(&daemon, Env());
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitForWatermark(port)) << Log();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";

  testing::ChromiumResult dom = testing::ChromiumDumpDom(url);
  ASSERT_TRUE(dom.ok()) << dom.error;
  const std::string& html = dom.output;
  EXPECT_NE(html.find("data-rendered=\"true\""), std::string::npos) << html.substr(0, 2000);
  for (const char* id : {"chart-input-rate", "chart-duration", "chart-freshness"}) {
    std::smatch m;
    std::regex re(std::string("<svg[^>]*id=\"") + id + "\"[^>]*data-points=\"(\\d+)\"");
    std::regex re2(std::string("<svg[^>]*data-points=\"(\\d+)\"[^>]*id=\"") + id + "\"");
    ASSERT_TRUE(std::regex_search(html, m, re) || std::regex_search(html, m, re2)) << id << " not drawn";
    EXPECT_GE(std::stoi(m[1].str()), kPartitions) << id;
  }
  EXPECT_NE(html.find(kLastPartition), std::string::npos);  // the state: the watermark

  std::string png = dir_.Join("status-page.png");
  testing::ChromiumResult shot = testing::ChromiumScreenshot(url, png);
  ASSERT_TRUE(shot.ok()) << shot.error;
  EXPECT_GT(std::filesystem::file_size(png), 10'000u);
  ExitStatus status = Terminate(&daemon);
  EXPECT_TRUE(status.Exited(0)) << status.Describe();
}

// A unix datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ok_ = fd_ >= 0 && path_.size() < sizeof addr.sun_path &&
          ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  // Datagrams that arrive within `wait`.
  std::vector<std::string> Receive(milliseconds wait) {
    std::vector<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) got.emplace_back(buf, static_cast<size_t>(n));
      else std::this_thread::sleep_for(milliseconds(10));
    }
    return got;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

size_t Count(const std::vector<std::string>& messages, const std::string& prefix) {
  return static_cast<size_t>(std::count_if(messages.begin(), messages.end(),
                                           [&](const std::string& m) { return m.starts_with(prefix); }));
}

TEST_F(AdminE2e, SystemdHearsReadyWatchdogStatusAndStopping) {
  Gen();
  NotifySocket sd(dir_.Join("notify.sock"));
  ASSERT_TRUE(sd.ok()) << std::strerror(errno);
  ChildProcess daemon;
  const uint16_t port = StartDaemon(&daemon, Env({{"NOTIFY_SOCKET", sd.path()}, {"WATCHDOG_USEC", "400000"}}));
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitForWatermark(port)) << Log();
  std::vector<std::string> messages = sd.Receive(milliseconds(1500));  // pings every 200 ms meanwhile
  ASSERT_FALSE(messages.empty()) << Log();
  EXPECT_EQ(Count(messages, "READY=1\nSTATUS="), 1u);
  EXPECT_TRUE(messages.front().starts_with("READY=1")) << messages.front();
  EXPECT_GE(Count(messages, "WATCHDOG=1"), 3u);
  // STATUS= after each batch: the last one names the watermark.
  auto last_status = std::find_if(messages.rbegin(), messages.rend(),
                                  [](const std::string& m) { return m.starts_with("STATUS="); });
  ASSERT_NE(last_status, messages.rend());
  EXPECT_NE(last_status->find(std::string("watermark ") + kLastPartition), std::string::npos) << *last_status;
  EXPECT_EQ(last_status->find('\n'), std::string::npos);

  ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
  auto status = daemon.WaitFor(seconds(60));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->Exited(0)) << status->Describe();
  messages = sd.Receive(milliseconds(200));
  EXPECT_EQ(Count(messages, "STOPPING=1"), 1u) << ::testing::PrintToString(messages);
}

TEST_F(AdminE2e, UnhealthyDaemonWithholdsTheSystemdWatchdogPing) {
  // One eligible partition of nothing but malformed lines: every batch on
  // it fails the bad-record limit, so it waits uncommitted, and with
  // max_commit_age 1 s the daemon is unhealthy after 1 s. (A source with no
  // input at all is healthy: nothing waits.)
  const std::string partition = source_ + "/updates/2026/01/01/00/00/00";
  std::filesystem::create_directories(partition);
  std::ofstream(partition + "/part-0.ndjson") << "not json\n{\"broken\":\n";
  NotifySocket sd(dir_.Join("notify.sock"));
  ASSERT_TRUE(sd.ok()) << std::strerror(errno);
  ChildProcess daemon;
  const uint16_t port = StartDaemon(
      &daemon, Env({{"NOTIFY_SOCKET", sd.path()}, {"WATCHDOG_USEC", "400000"}, {"FRESHET_WATCHDOG_MAX_COMMIT_AGE", "1s"}}));
  ASSERT_NE(port, 0);
  RawHttpResponse health;
  for (int i = 0; i < 600; ++i) {
    health = Get(port, "/healthz");
    if (health.status == 503) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(health.status, 503) << health.Describe();
  EXPECT_NE(health.body.find("eligible input waiting since 2026-01-01T00:"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("no commit since start"), std::string::npos) << health.body;
  sd.Receive(milliseconds(300));  // drop a ping that raced the verdict
  // Five ping periods: a healthy daemon would have sent five.
  std::vector<std::string> messages = sd.Receive(milliseconds(1000));
  EXPECT_EQ(Count(messages, "WATCHDOG=1"), 0u) << ::testing::PrintToString(messages);
  RawHttpResponse metrics = Get(port, "/metrics");
  EXPECT_EQ(Sample(metrics.body, "freshet_healthy"), 0);
  EXPECT_NE(Log().find("watchdog: unhealthy"), std::string::npos);
  ExitStatus status = Terminate(&daemon);
  EXPECT_TRUE(status.Exited(0)) << status.Describe();
}

// One writer per sink, with real processes: while a daemon runs, a second
// `freshet run` on the same sink exits 1 at start-up naming the sink and
// the holder, and writes nothing; the first's clean exit frees the sink.
TEST_F(AdminE2e, ASecondDaemonOnTheSameSinkIsRefused) {
  Gen();
  ChildProcess first;
  const uint16_t port = StartDaemon(&first, Env());
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitForWatermark(port)) << Log();
  const std::string current = ReadFileOrEmpty(sink_ + "/CURRENT");
  RunResult second = cli_.Run(FreshetCli::RunArgs("interval"), Env(), seconds(60));
  EXPECT_TRUE(second.status.Exited(1)) << second.Describe();
  EXPECT_NE(second.err.find("has another writer: held by"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find(sink_), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(first.pid())), std::string::npos) << second.err;
  EXPECT_EQ(ReadFileOrEmpty(sink_ + "/CURRENT"), current) << "the refused daemon wrote nothing";
  EXPECT_TRUE(Terminate(&first).Exited(0));
  EXPECT_FALSE(std::filesystem::exists(sink_ + "/_freshet/writer.json")) << "a clean exit releases the lease";
  RunResult after = cli_.Run(FreshetCli::RunArgs("once"), Env(), seconds(60));
  EXPECT_TRUE(after.status.Exited(0)) << after.Describe();
}

TEST_F(AdminE2e, RestartsAreCountedAcrossKillCleanStopAndPlannedRestart) {
  Gen();
  auto restarts = [&](uint16_t port, const char* kind) {
    return Sample(Get(port, "/metrics").body, std::string("freshet_restarts_total{kind=\"") + kind + "\"}");
  };
  {  // First run, killed like an OOM kill.
    ChildProcess daemon;
    uint16_t port = StartDaemon(&daemon, Env());
    ASSERT_NE(port, 0);
    EXPECT_EQ(restarts(port, "unplanned"), 0);
    daemon.Kill();
  }
  {  // Second run: one unplanned restart. Then a clean stop.
    ChildProcess daemon;
    uint16_t port = StartDaemon(&daemon, Env());
    ASSERT_NE(port, 0);
    EXPECT_EQ(restarts(port, "unplanned"), 1);
    EXPECT_EQ(restarts(port, "planned"), 0);
    EXPECT_NE(Log().find("did not exit cleanly"), std::string::npos);
    EXPECT_TRUE(Terminate(&daemon).Exited(0));
  }
  {  // Third run: the clean stop is not a restart; max_uptime ends it (planned).
    ChildProcess daemon;
    uint16_t port = StartDaemon(&daemon, Env({{"FRESHET_WATCHDOG_MAX_UPTIME", "2s"}}));
    ASSERT_NE(port, 0);
    EXPECT_EQ(restarts(port, "unplanned"), 1);
    EXPECT_EQ(restarts(port, "planned"), 0);
    auto status = daemon.WaitFor(seconds(60));
    ASSERT_TRUE(status.has_value()) << "max_uptime 2s did not end the run";
    EXPECT_TRUE(status->Exited(0)) << status->Describe();
    EXPECT_NE(Log().find("planned restart"), std::string::npos);
  }
  {  // Fourth run: one planned restart.
    ChildProcess daemon;
    uint16_t port = StartDaemon(&daemon, Env());
    ASSERT_NE(port, 0);
    EXPECT_EQ(restarts(port, "planned"), 1);
    EXPECT_EQ(restarts(port, "unplanned"), 1);
    EXPECT_TRUE(Terminate(&daemon).Exited(0));
  }
  std::string state = ReadFileOrEmpty(dir_.Join("freshet-run.json"));
  EXPECT_NE(state.find("\"stopped\""), std::string::npos) << state;
}

TEST_F(AdminE2e, SecondSignalExitsAtOnceWith130) {
  // Enough input that the first (full) batch takes a while.
  Gen({"--updates-per-partition", "20000"});
  ChildProcess daemon;
  const uint16_t port = StartDaemon(&daemon, Env());
  ASSERT_NE(port, 0);
  bool in_flight = false;
  for (int i = 0; i < 2000 && !in_flight; ++i) {
    in_flight = Get(port, "/status").body.find("\"batch_in_flight\":{") != std::string::npos;
    if (!in_flight) std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(in_flight) << "never saw a batch in flight\n" << Log();
  ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(::kill(daemon.pid(), SIGINT), 0);
  auto status = daemon.WaitFor(seconds(20));
  ASSERT_TRUE(status.has_value()) << "a second signal did not end the process";
  EXPECT_TRUE(status->Exited(130)) << status->Describe() << "\n" << Log();
  EXPECT_NE(Log().find("second signal"), std::string::npos);
}

TEST_F(AdminE2e, JsonLogsHaveOneLinePerBatchAndNoSecrets) {
  Gen();
  const std::string planted_key = "AKIAPLANTEDE2EKEY0001";
  const std::string planted_secret = "planted/E2E+secret/Zq8vX3nR5tLmP0wKjH2s";
  const std::string planted_session = "planted-session-token-E2E-4b7e";
  EnvVars env = Env({{"FRESHET_LOG_FORMAT", "json"},
                     {"FRESHET_LOG_LEVEL", "debug"},
                     {"FRESHET_ADMIN_TOKEN", kToken},
                     {"FRESHET_S3_ACCESS_KEY_ID", planted_key},
                     {"FRESHET_S3_SECRET_ACCESS_KEY", planted_secret},
                     {"FRESHET_S3_SESSION_TOKEN", planted_session},
                     {"AWS_SECRET_ACCESS_KEY", planted_secret}});
  RunResult r = cli_.Run(FreshetCli::RunArgs("available_now"), env);
  ASSERT_TRUE(r.status.Exited(0)) << r.Describe();
  size_t lines = 0, committed = 0;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    ++lines;
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(line.c_str()).HasParseError()) << "not a JSON line: " << line;
    ASSERT_TRUE(d.IsObject() && d.HasMember("time") && d.HasMember("level") && d.HasMember("msg")) << line;
    std::string msg = d["msg"].GetString();
    if (std::regex_search(msg, std::regex(R"(^batch \d+ committed )"))) ++committed;
  }
  EXPECT_GT(lines, static_cast<size_t>(kPartitions));
  EXPECT_EQ(committed, static_cast<size_t>(kPartitions)) << r.err;  // one progress line per batch
  for (const std::string& secret : {std::string(kToken), planted_key, planted_secret, planted_session}) {
    EXPECT_EQ(r.err.find(secret), std::string::npos) << "planted secret in the log: " << secret;
    EXPECT_EQ(r.out.find(secret), std::string::npos) << "planted secret on stdout: " << secret;
  }
  // check-config shows the keys but not the values.
  std::string config = dir_.Join("empty.json");
  std::ofstream(config) << "{}\n";
  RunResult cc = cli_.Run({"check-config", config}, env);
  EXPECT_TRUE(cc.status.Exited(0)) << cc.Describe();
  EXPECT_NE(cc.out.find("admin.token"), std::string::npos) << cc.out;
  for (const std::string& secret : {std::string(kToken), planted_secret, planted_session}) {
    EXPECT_EQ(cc.out.find(secret), std::string::npos) << secret;
    EXPECT_EQ(cc.err.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace freshet::e2e
