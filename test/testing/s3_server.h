// S3-compatible servers on 127.0.0.1 for tests: s3rver 3.7.1 or
// @20minutes/s3rver 5.0.0 (Node, installed by scripts/install-npm-tools.sh
// into test/tools/node_modules), optionally behind test/tools/fault_proxy.js.
//
//   // Once per suite (starting node takes ~1 s):
//   auto server = testing::S3Server::Start({.kind = testing::S3ServerKind::kS3rver,
//                                           .buckets = {"src", "sink"}});
//   ASSERT_TRUE(server.ok()) << server.status().ToString();
//   S3Options o;
//   o.endpoint = (*server)->endpoint();            // "http://127.0.0.1:41234"
//   o.access_key_id = (*server)->access_key();     // "S3RVER"
//   o.secret_access_key = (*server)->secret_key(); // "S3RVER"
//   o.region = (*server)->region();                // "us-east-1"
//   o.addressing = "path";
//   ... s3://src/prefix ...
//   // Destruction stops everything and removes the data directory.
//
// The two servers (see issue 3 for why both):
//   kS3rver      s3rver 3.7.1, for behaviour. Accepts any credentials and
//                does NOT verify signatures; its suffix range "bytes=-N"
//                is wrong and it ignores If-None-Match: don't test those
//                against it.
//   kS3rverSigV4 @20minutes/s3rver 5.0.0, which verifies SigV4 (header and
//                presigned) for access key S3RVER / secret S3RVER and
//                answers 403 SignatureDoesNotMatch otherwise; requests
//                without any Authorization are let through anonymously.
//                It wrongly rejects a bucket path with a trailing slash
//                ("/bucket/?list-type=2"): use "/bucket?list-type=2".
// Both run with NODE_OPTIONS=--openssl-legacy-provider (their
// continuation tokens use DES, which Node 20's OpenSSL 3 hides otherwise),
// listen on an ephemeral port (-p 0, the port read from their "listening"
// line: no window in which another process can take it), and are created
// with the requested buckets (--configure-bucket). Path-style addressing:
// the endpoint is an IP, so there is no virtual host to name a bucket.
//
// With `proxy` set, test/tools/fault_proxy.js runs in front and endpoint()
// is the proxy's; server_endpoint() still reaches the server directly
// (e.g. to check what really got stored). The proxy keeps Host and every
// end-to-end header as sent, so signatures made for endpoint() verify.
//
// Processes: each runs in its own process group with PR_SET_PDEATHSIG, so
// a crashing or killed test binary takes them along; Stop() (and the
// destructor) SIGTERMs the groups, SIGKILLs after a grace period, and
// checks nothing of them is left. Start S3Server from the test's main
// thread (the death signal follows the starting thread). Not thread-safe;
// one owner; the accessors may be read from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/status.h"
#include "testing/background_process.h"
#include "testing/temp_dir.h"

namespace freshet::testing {

enum class S3ServerKind { kS3rver, kS3rverSigV4 };
const char* S3ServerKindName(S3ServerKind kind);  // "s3rver-3.7.1", "s3rver-sigv4-5.0.0"

// fault_proxy.js settings (its header comment defines the modes).
struct FaultProxyOptions {
  double rate = 0.2;  // fraction of requests faulted, in [0, 1]
  uint64_t seed = 1;
  // Subset of slowdown, internal, reset, reset-after-headers, truncate,
  // stall, error200, lost. Empty = the proxy's default set (all but lost).
  std::vector<std::string> modes;
  // How long `stall` holds a request before dropping it: make it longer
  // than the client's request deadline to test that deadline.
  std::chrono::milliseconds stall{5000};
  std::vector<std::string> methods;  // only these are faulted; empty = all
  bool log = false;                  // one stderr line per fault (see proxy_log())
};

// The proxy's counters (GET /__fault_stats).
struct FaultProxyStats {
  uint64_t requests = 0;  // proxied requests (control requests excluded)
  uint64_t forwarded = 0;
  uint64_t faults = 0;
  // Per mode, keys with '_': slowdown, internal, reset, reset_after_headers,
  // truncate, stall, error200, lost.
  std::map<std::string, uint64_t> by_mode;
  uint64_t upstream_errors = 0;
  uint64_t mode(const std::string& name) const {
    auto it = by_mode.find(name);
    return it == by_mode.end() ? 0 : it->second;
  }
};

struct S3ServerOptions {
  S3ServerKind kind = S3ServerKind::kS3rver;
  // Created at start. S3 bucket naming rules apply (3-63 of [a-z0-9.-]).
  std::vector<std::string> buckets = {"freshet-test"};
  std::optional<FaultProxyOptions> proxy;  // nullopt: no proxy
  // For each process to start and answer HTTP (npm install not included).
  std::chrono::milliseconds start_timeout{60000};
};

class S3Server {
 public:
  // Installs the Node tools if needed (once per process), starts the
  // server (and the proxy), and returns once both answer HTTP on their
  // ports. Errors carry the processes' stderr tails.
  static Result<std::unique_ptr<S3Server>> Start(S3ServerOptions options = {});

  ~S3Server();  // Stop(), then the data directory goes
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  // Stops the proxy, then the server (idempotent). kInternal when a process
  // of theirs is still alive afterwards.
  Status Stop();

  // What clients use: "http://127.0.0.1:<port>", the proxy's when there is one.
  const std::string& endpoint() const { return proxy_ ? proxy_endpoint_ : server_endpoint_; }
  uint16_t port() const { return proxy_ ? proxy_port_ : server_port_; }
  // The server itself, bypassing any proxy.
  const std::string& server_endpoint() const { return server_endpoint_; }
  uint16_t server_port() const { return server_port_; }
  // Both servers know exactly one key pair (kS3rver accepts anything).
  const std::string& access_key() const { return credential_; }
  const std::string& secret_key() const { return credential_; }
  const std::string& region() const { return region_; }
  S3ServerKind kind() const { return options_.kind; }
  const std::vector<std::string>& buckets() const { return options_.buckets; }
  // Where the server keeps its files (buckets are directories in it).
  std::string data_dir() const { return dir_.Join("data"); }

  bool has_proxy() const { return proxy_ != nullptr; }
  uint16_t proxy_port() const { return proxy_port_; }
  // GET /__fault_stats. REQUIRES: has_proxy().
  Result<FaultProxyStats> ProxyStats() const;
  // Replaces the proxy's settings (PUT /__fault_config) and restarts its
  // draw sequence; counters keep counting. `rate = 0` turns faults off.
  // REQUIRES: has_proxy().
  Status ConfigureProxy(const FaultProxyOptions& options);

  // The processes' ids (process group ids too), -1 when not running.
  pid_t server_pid() const { return server_.pid(); }
  pid_t proxy_pid() const { return proxy_ ? proxy_->pid() : -1; }
  // The tail of each process's stderr, for assertion messages.
  std::string Logs() const;
  // The proxy's stderr (its --log lines). REQUIRES: has_proxy().
  std::string proxy_log() const;

 private:
  explicit S3Server(S3ServerOptions options);
  Status StartServer(const std::string& node, const std::string& tools);
  Status StartProxy(const std::string& node);

  S3ServerOptions options_;
  TempDir dir_{"s3server"};
  BackgroundProcess server_;
  std::unique_ptr<BackgroundProcess> proxy_;
  uint16_t server_port_ = 0, proxy_port_ = 0;
  std::string server_endpoint_, proxy_endpoint_;
  std::string credential_ = "S3RVER";
  std::string region_ = "us-east-1";
  bool stopped_ = false;
};

// test/tools, with its node_modules installed: runs
// $FRESHET_SOURCE_DIR/scripts/install-npm-tools.sh once per process (it
// is idempotent and instant once installed) and caches the answer.
Result<std::string> NodeToolsDir();
// The repository root from $FRESHET_SOURCE_DIR (set by ctest for every
// test); kFailedPrecondition when unset.
Result<std::string> SourceDir();
// `node` from $PATH; kFailedPrecondition when missing.
Result<std::string> NodeBinary();

}  // namespace freshet::testing
