// The admin HTTP/1.1 server (Boost.Beast) behind /healthz, /readyz,
// /metrics, /status and the status page. It runs on the daemon's own
// io_context, so it answers while builds run on the compute pool; the
// handler it calls must be quick and must never block (it reads snapshots,
// it does not wait for an actor).
//
// Contracts:
// - Start() binds and listens before it returns (so a bad or busy address
//   fails start-up with a message naming it); connections are served once
//   the io_context runs. "127.0.0.1:0" picks a free port: see port().
// - Every connection has deadlines: `read_timeout` for a whole request
//   (headers and body) and `write_timeout` for a response; idle keep-alive
//   connections close after `idle_timeout`. At most `max_connections` are
//   open; further ones are accepted and closed at once (counted).
//   Requests larger than `max_request_bytes` get 413, and other malformed
//   requests get 400; then the connection closes.
// - Only GET and HEAD reach the handler; other methods get 405 with
//   "Allow: GET, HEAD". HEAD responses carry the GET's headers and no body.
// - With a non-empty `bearer_token`, every path except those in
//   `open_paths` (default /healthz and /readyz, for probes) needs
//   "Authorization: Bearer <token>", compared in constant time; otherwise
//   401 with "WWW-Authenticate: Bearer". The token never appears in logs.
// - Responses carry Content-Type, Content-Length, "Cache-Control: no-store"
//   and keep-alive as the client asked (HTTP/1.1 default on).
// - Stop() closes the listener and every open connection; the server must
//   be stopped (or the io_context stopped) before it is destroyed. Thread:
//   Start/Stop from any thread; the handler runs on the server's strand of
//   the io_context (which may have several threads). Called on that
//   strand, Stop() has closed everything when it returns; from elsewhere it
//   refuses new requests at once and the closing runs on the strand (the
//   io_context then runs out of server work).
// - A handler that throws gets its client a 500 (and an error log line).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "freshet/status.h"

namespace boost::asio {
class io_context;
}

namespace freshet {

struct AdminRequest {
  std::string method;  // "GET" or "HEAD"
  std::string target;  // as sent: path and query
  std::string path;    // target without the query
  std::string query;   // after '?', "" when none
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using AdminHandler = std::function<AdminResponse(const AdminRequest&)>;

struct AdminServerOptions {
  std::string listen = "127.0.0.1:9464";  // host:port; IPv6 as [::1]:9464
  std::string bearer_token;               // "" = no authentication
  std::vector<std::string> open_paths = {"/healthz", "/readyz"};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  size_t max_connections = 64;
  size_t max_request_bytes = 16 * 1024;
};

class AdminServer {
 public:
  struct Stats {
    uint64_t connections_accepted = 0;
    uint64_t connections_rejected = 0;  // over max_connections
    uint64_t requests = 0;
    uint64_t unauthorized = 0;
    uint64_t bad_requests = 0;  // 400, 405, 413
    uint64_t timeouts = 0;      // read or write deadline passed (idle keep-alive closes are normal)
  };

  // Binds `options.listen` on `io`. Errors: kInvalidArgument for an
  // unparsable address, kUnavailable when it cannot be bound (the message
  // names the address and the reason, e.g. "address already in use").
  static Result<std::unique_ptr<AdminServer>> Start(boost::asio::io_context& io, AdminServerOptions options,
                                                    AdminHandler handler);
  ~AdminServer();

  uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:9464"
  Stats stats() const;      // thread-safe
  // `closed`, if given, runs on the strand once everything is closed (also
  // when the server was stopped before).
  void Stop(std::function<void()> closed = {});

 private:
  struct Impl;
  explicit AdminServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace freshet
