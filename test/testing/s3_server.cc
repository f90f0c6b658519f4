#include "testing/s3_server.h"

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#include "testing/raw_http.h"

namespace freshet::testing {
namespace {

using std::chrono::milliseconds;

// fault_proxy.js's default modes: every mode but `lost`.
constexpr const char* kDefaultProxyModes = "slowdown,internal,reset,reset-after-headers,truncate,stall,error200";

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string Tail(const std::string& s, size_t n = 2000) { return s.size() > n ? "..." + s.substr(s.size() - n) : s; }

// "S3rver listening on 127.0.0.1:41234" / "listening 41234" -> 41234.
std::optional<uint16_t> PortAtEnd(const std::string& line) {
  size_t i = line.size();
  while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') --i;
  if (i == line.size() || line.size() - i > 5) return std::nullopt;
  unsigned long port = std::stoul(line.substr(i));
  if (port == 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

// Polls `target` until it answers `want` or the deadline passes (the
// process has printed its port, so this is normally the first try).
Status WaitForHttp(BackgroundProcess& process, uint16_t port, const std::string& target, int want,
                   std::chrono::steady_clock::time_point deadline) {
  RawHttpResponse last;
  auto pause = milliseconds(5);
  for (;;) {
    last = RawHttp(port, RawHttpRequest{"GET", target, {}, ""}, milliseconds(5000));
    if (last.ok() && last.status == want) return Status::Ok();
    if (!process.running()) break;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, milliseconds(200));
  }
  return Status::Unavailable("GET " + target + " on port " + std::to_string(port) + " did not answer " +
                             std::to_string(want) + ": last " + last.Describe());
}

std::string ProxyConfigQuery(const FaultProxyOptions& o) {
  std::ostringstream q;
  q << "rate=" << o.rate << "&seed=" << o.seed << "&stall-ms=" << o.stall.count()
    << "&modes=" << (o.modes.empty() ? std::string(kDefaultProxyModes) : Join(o.modes, ','))
    << "&methods=" << Join(o.methods, ',');
  return q.str();
}

}  // namespace

const char* S3ServerKindName(S3ServerKind kind) {
  switch (kind) {
    case S3ServerKind::kS3rver: return "s3rver-3.7.1";
    case S3ServerKind::kS3rverSigV4: return "s3rver-sigv4-5.0.0";
  }
  return "?";
}

Result<std::string> SourceDir() {
  const char* dir = std::getenv("FRESHET_SOURCE_DIR");
  if (dir == nullptr || *dir == '\0') {
    return Status::FailedPrecondition("FRESHET_SOURCE_DIR is not set (ctest sets it; when running a test binary "
                                      "by hand, export FRESHET_SOURCE_DIR=<repository root>)");
  }
  return std::string(dir);
}

Result<std::string> NodeBinary() {
  std::string node = FindInPath("node");
  if (node.empty()) return Status::FailedPrecondition("node not found in $PATH (scripts/install-deps.sh installs it)");
  return node;
}

Result<std::string> NodeToolsDir() {
  static std::mutex mu;
  static std::optional<Result<std::string>> cached;
  std::lock_guard lock(mu);
  if (cached) return *cached;
  FRESHET_ASSIGN_OR_RETURN(std::string source, SourceDir());
  // npm ci over the network on a fresh clone: minutes, not seconds.
  CommandResult r = RunCommand({.argv = {"bash", source + "/scripts/install-npm-tools.sh"}}, std::chrono::minutes(10));
  if (!r.Ok()) {
    cached = Status::FailedPrecondition("scripts/install-npm-tools.sh: " + r.Describe());
    return *cached;
  }
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::string dir = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  if (dir.empty() || dir.front() != '/') {
    cached = Status::Internal("scripts/install-npm-tools.sh printed no tools directory: \"" + Tail(r.out) + "\"");
  } else {
    cached = dir;
  }
  return *cached;
}

S3Server::S3Server(S3ServerOptions options) : options_(std::move(options)) {}

S3Server::~S3Server() {
  Status st = Stop();
  if (!st.ok()) std::fprintf(stderr, "S3Server: %s\n", st.ToString().c_str());
}

Result<std::unique_ptr<S3Server>> S3Server::Start(S3ServerOptions options) {
  FRESHET_ASSIGN_OR_RETURN(std::string tools, NodeToolsDir());
  FRESHET_ASSIGN_OR_RETURN(std::string node, NodeBinary());
  std::unique_ptr<S3Server> s(new S3Server(std::move(options)));
  Status st = s->StartServer(node, tools);
  if (st.ok() && s->options_.proxy) st = s->StartProxy(node);
  if (!st.ok()) {
    std::string logs = s->Logs();
    (void)s->Stop();  // the error below says more
    return Status(st.code(), st.message() + (logs.empty() ? "" : "\n" + logs));
  }
  return s;
}

Status S3Server::StartServer(const std::string& node, const std::string& tools) {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::vector<std::string> argv = {node};
  if (options_.kind == S3ServerKind::kS3rver) {
    argv.push_back(tools + "/node_modules/s3rver/bin/s3rver.js");
  } else {
    // @20minutes/s3rver ships no bin script: lib/cli.js exports parseAsync,
    // which reads the flags from argv[2...].
    argv.insert(argv.end(), {"-e", "require(process.argv[1]).parseAsync(process.argv)",
                             tools + "/node_modules/s3rver-sigv4/lib/cli.js"});
  }
  argv.insert(argv.end(), {"-d", data_dir(), "-a", "127.0.0.1", "-p", "0", "--silent"});
  for (const auto& b : options_.buckets) argv.insert(argv.end(), {"--configure-bucket", b});

  ProcessOptions po;
  po.argv = std::move(argv);
  po.env = {{"NODE_OPTIONS", "--openssl-legacy-provider"}};
  po.stdout_path = dir_.Join("server.out");
  po.stderr_path = dir_.Join("server.err");
  std::string err = server_.Start(po);
  if (!err.empty()) return Status::Internal(std::string("start ") + S3ServerKindName(options_.kind) + ": " + err);

  auto line = server_.WaitForOutput("S3rver listening on ", options_.start_timeout);
  if (!line) {
    return Status::Unavailable(std::string(S3ServerKindName(options_.kind)) + " printed no \"listening\" line (" +
                               (server_.running() ? "still running" : "it exited") + ")");
  }
  auto port = PortAtEnd(*line);
  if (!port) return Status::Internal("cannot read a port from \"" + *line + "\"");
  server_port_ = *port;
  server_endpoint_ = "http://127.0.0.1:" + std::to_string(server_port_);
  // GET / lists the buckets: it answers once the server is really up.
  return WaitForHttp(server_, server_port_, "/", 200, deadline);
}

Status S3Server::StartProxy(const std::string& node) {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  FRESHET_ASSIGN_OR_RETURN(std::string source, SourceDir());
  const FaultProxyOptions& o = *options_.proxy;
  std::ostringstream rate;
  rate << o.rate;
  std::vector<std::string> argv = {node,       source + "/test/tools/fault_proxy.js",
                                   "--upstream", "127.0.0.1:" + std::to_string(server_port_),
                                   "--port",     "0",
                                   "--rate",     rate.str(),
                                   "--seed",     std::to_string(o.seed),
                                   "--stall-ms", std::to_string(o.stall.count())};
  if (!o.modes.empty()) argv.insert(argv.end(), {"--modes", Join(o.modes, ',')});
  if (!o.methods.empty()) argv.insert(argv.end(), {"--methods", Join(o.methods, ',')});
  if (o.log) argv.push_back("--log");

  proxy_ = std::make_unique<BackgroundProcess>();
  ProcessOptions po;
  po.argv = std::move(argv);
  po.stdout_path = dir_.Join("proxy.out");
  po.stderr_path = dir_.Join("proxy.err");
  std::string err = proxy_->Start(po);
  if (!err.empty()) return Status::Internal("start fault_proxy.js: " + err);
  auto line = proxy_->WaitForOutput("listening ", options_.start_timeout);
  if (!line) {
    return Status::Unavailable(std::string("fault_proxy.js printed no \"listening\" line (") +
                               (proxy_->running() ? "still running" : "it exited") + ")");
  }
  auto port = PortAtEnd(*line);
  if (!port) return Status::Internal("cannot read a port from \"" + *line + "\"");
  proxy_port_ = *port;
  proxy_endpoint_ = "http://127.0.0.1:" + std::to_string(proxy_port_);
  return WaitForHttp(*proxy_, proxy_port_, "/__fault_stats", 200, deadline);
}

Status S3Server::Stop() {
  if (stopped_) return Status::Ok();
  stopped_ = true;
  std::string stray;
  // The proxy first, so nothing reaches a dying server through it.
  if (proxy_ && proxy_->pid() > 0) {
    proxy_->Stop();
    if (proxy_->GroupAlive()) stray += " fault_proxy.js (group " + std::to_string(proxy_->pid()) + ")";
  }
  if (server_.pid() > 0) {
    server_.Stop();
    if (server_.GroupAlive()) stray += std::string(" ") + S3ServerKindName(options_.kind) + " (group " +
                                       std::to_string(server_.pid()) + ")";
  }
  if (!stray.empty()) return Status::Internal("still running after Stop:" + stray);
  return Status::Ok();
}

Result<FaultProxyStats> S3Server::ProxyStats() const {
  if (!proxy_) return Status::FailedPrecondition("no fault proxy");
  RawHttpResponse r = RawHttp(proxy_port_, RawHttpRequest{"GET", "/__fault_stats", {}, ""}, milliseconds(10000));
  if (!r.ok() || r.status != 200) return Status::Unavailable("GET /__fault_stats: " + r.Describe());
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("GET /__fault_stats: not JSON: " + r.body);
  auto u64 = [&doc](const char* name) -> uint64_t {
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
  };
  FaultProxyStats s;
  s.requests = u64("requests");
  s.forwarded = u64("forwarded");
  s.faults = u64("faults");
  s.upstream_errors = u64("upstream_errors");
  auto by_mode = doc.FindMember("by_mode");
  if (by_mode != doc.MemberEnd() && by_mode->value.IsObject()) {
    for (const auto& m : by_mode->value.GetObject()) {
      if (m.value.IsUint64()) s.by_mode[m.name.GetString()] = m.value.GetUint64();
    }
  }
  return s;
}

Status S3Server::ConfigureProxy(const FaultProxyOptions& options) {
  if (!proxy_) return Status::FailedPrecondition("no fault proxy");
  RawHttpResponse r =
      RawHttp(proxy_port_, RawHttpRequest{"PUT", "/__fault_config?" + ProxyConfigQuery(options), {}, ""},
              milliseconds(10000));
  if (!r.ok() || r.status != 200) return Status::InvalidArgument("PUT /__fault_config: " + r.Describe() + " " + r.body);
  options_.proxy = options;
  return Status::Ok();
}

std::string S3Server::Logs() const {
  std::string out;
  std::string err = server_.ReadStderr();
  if (!err.empty()) out += std::string(S3ServerKindName(options_.kind)) + " stderr:\n" + Tail(err) + "\n";
  if (proxy_) {
    std::string perr = proxy_->ReadStderr();
    if (!perr.empty()) out += "fault_proxy.js stderr:\n" + Tail(perr) + "\n";
  }
  return out;
}

std::string S3Server::proxy_log() const { return proxy_ ? proxy_->ReadStderr() : ""; }

}  // namespace freshet::testing
