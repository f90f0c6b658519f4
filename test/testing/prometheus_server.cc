#include "testing/prometheus_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "testing/raw_http.h"

namespace freshet::testing {
namespace {

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

uint16_t PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

PrometheusServer::PrometheusServer() = default;
PrometheusServer::~PrometheusServer() { Stop(); }

std::string PrometheusServer::Start(const PrometheusOptions& options, std::chrono::milliseconds timeout) {
  std::string bin = FindInPath("prometheus");
  if (bin.empty()) return "prometheus is not installed: run scripts/install-deps.sh test (Debian package prometheus)";
  std::string config = dir_.Join("prometheus.yml");
  {
    std::ofstream out(config);
    out << "global:\n  scrape_interval: " << options.scrape_interval << "\n  scrape_timeout: "
        << options.scrape_interval << "\n  evaluation_interval: " << options.scrape_interval << "\n"
        << "scrape_configs:\n  - job_name: " << options.job << "\n";
    if (!options.bearer_token.empty()) {
      out << "    authorization:\n      type: Bearer\n      credentials: " << options.bearer_token << "\n";
    }
    out << "    static_configs:\n      - targets: [";
    for (size_t i = 0; i < options.targets.size(); ++i) out << (i ? ", " : "") << "'" << options.targets[i] << "'";
    out << "]\n";
  }
  port_ = PickFreePort();
  if (port_ == 0) return "no free port for prometheus";
  std::string err = process_.Start({.argv = {bin, "--config.file=" + config, "--storage.tsdb.path=" + dir_.Join("data"),
                                             "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                             "--log.level=warn"},
                                    .stdout_path = dir_.Join("stdout"),
                                    .stderr_path = dir_.Join("stderr")});
  if (!err.empty()) return "prometheus: " + err;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    RawHttpResponse r = RawHttp(port_, {.target = "/-/ready"}, std::chrono::seconds(2));
    if (r.ok() && r.status == 200) return "";
    if (!process_.running()) return "prometheus exited at start-up: " + Log();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "prometheus not ready after " + std::to_string(timeout.count()) + " ms: " + Log();
}

std::string PrometheusServer::Query(const std::string& expr) {
  RawHttpResponse r = RawHttp(port_, {.target = "/api/v1/query?query=" + UrlEncode(expr)}, std::chrono::seconds(10));
  return r.ok() && r.status == 200 ? r.body : "";
}

std::string PrometheusServer::Targets() {
  RawHttpResponse r = RawHttp(port_, {.target = "/api/v1/targets"}, std::chrono::seconds(10));
  return r.ok() ? r.body : "";
}

std::string PrometheusServer::Log() const {
  std::string err = process_.ReadStderr();
  return err.size() > 4000 ? err.substr(err.size() - 4000) : err;
}

void PrometheusServer::Stop() {
  if (port_ != 0) process_.Stop();
}

}  // namespace freshet::testing
