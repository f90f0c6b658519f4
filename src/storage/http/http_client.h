// freshet's HTTP/1.1 client, on Boost.Beast (the header has no Beast/Asio in
// it: the implementation is behind a pimpl so only src/storage/http/*.cc
// pays for those headers).
//
// Contract:
// - One request, one attempt: the client never retries (the S3 layer owns
//   retry policy, because only it knows which failures are safe to repeat).
// - Every call completes exactly once through its callback, on the client's
//   strand of its IoLoop (or inline when refused before starting, or on the
//   destroying thread when the loop is stopped). Callbacks must not block:
//   they hold up every connection of the loop. They may call Send() again.
// - The loop: the daemon passes its own (base/io_loop.h), so the client's
//   connections share the io_context and threads of the actors; without
//   one, the client runs a private one-thread loop (the reader library, the
//   CLI tools).
// - Deadlines: connect (DNS + TCP + TLS handshake) is bounded by
//   Options::connect_timeout; the whole exchange (write request, read
//   response) by HttpRequest::timeout or Options::request_timeout, which
//   runs from Send(), so time spent queued or connecting counts against it
//   too; a pooled connection unused for Options::idle_timeout is closed.
//   kDeadlineExceeded names the phase that ran out (waiting for a pooled
//   connection, connect, write, read) and the limit.
// - Connection pool: keep-alive connections are pooled per Endpoint, at
//   most Options::max_connections_per_endpoint open (in use + idle) at once;
//   requests beyond that wait in a FIFO queue (their deadline keeps
//   running). A connection is returned to the pool only after a complete
//   response that allows keep-alive; a reused connection that turns out to
//   be closed by the peer before any response byte arrived is retried once
//   on a fresh connection (Stats::stale_reconnects). That is not an
//   application retry: the usual cause is a server closing an idle
//   keep-alive connection, and then the request never reached its handler.
//   (A handler that read the request and closed without a byte looks the
//   same, so delivery is at-least-once there; S3's operations tolerate it.)
//   Before reuse, a pooled connection the peer has already closed is
//   dropped without counting as stale.
// - Errors (Status codes from freshet/status.h):
//     kUnavailable       connect refused, DNS failure, connection reset or
//                        closed mid-exchange, truncated body (fewer bytes
//                        than Content-Length or an unterminated chunked
//                        body), pool queue full.
//     kDeadlineExceeded  connect or request deadline passed.
//     kFailedPrecondition TLS certificate verification failed, or a CA file
//                        that cannot be loaded (not transient).
//     kInvalidArgument   malformed request or URL.
//     kDataLoss          response body over Options::max_body_bytes.
//     kCancelled         the client is shutting down.
//   Any complete response is a success, whatever its status code: mapping
//   4xx/5xx is the caller's business. Messages name the method, endpoint
//   and path ("GET https://host/bucket/key: ..."), never header values or
//   the query string: those carry credentials (Authorization, presigned
//   URLs).
//
// Thread-safety: all methods may be called from any thread, except as
// noted under REQUIRES.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/io_loop.h"
#include "freshet/status.h"

namespace freshet {

// Where to connect: scheme, host and port of a URL.
struct HttpEndpoint {
  bool tls = false;
  std::string host;   // DNS name or IP literal (IPv6 without brackets)
  uint16_t port = 0;  // 0 = 80 / 443 by scheme

  uint16_t EffectivePort() const { return port != 0 ? port : (tls ? 443 : 80); }
  // "host" or "host:port" when the port is not the scheme's default, as
  // sent in the Host header (IPv6 literals bracketed).
  std::string HostHeader() const;
  // "http://host:port" / "https://host".
  std::string ToString() const;
  friend bool operator==(const HttpEndpoint&, const HttpEndpoint&) = default;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A parsed absolute URL: endpoint plus the rest ("/path?query").
struct HttpUrl {
  HttpEndpoint endpoint;
  std::string target = "/";  // origin-form request target, as given
};
// Parses "http://host[:port][/path]" or "https://...". kInvalidArgument
// names the URL and the problem.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string target = "/";    // origin-form: already percent-encoded path + "?" + query
  HttpHeaders headers;         // sent as given; Host and Content-Length are added
                               // by the client unless present
  std::string body;
  // Overrides Options::request_timeout for this request when set.
  std::optional<std::chrono::milliseconds> timeout;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  HttpHeaders headers;  // as received, in order
  std::string body;     // empty for HEAD

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

using HttpCallback = std::function<void(Result<HttpResponse>)>;

class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::milliseconds idle_timeout{20000};
    uint32_t max_connections_per_endpoint = 32;
    uint32_t max_queued_requests = 10000;  // beyond: kUnavailable at once
    uint64_t max_body_bytes = uint64_t{5} << 30;
    // TLS: verification against the system's CA store (and the host name
    // or IP against the certificate) is on by default; ca_file adds (PEM)
    // certificates to trust, e.g. a private CA. verify_tls = false is for
    // tests only: it accepts any certificate.
    bool verify_tls = true;
    std::string ca_file;
  };

  // Counters since creation, for metrics and tests.
  struct Stats {
    uint64_t requests = 0;            // Send() calls
    uint64_t responses = 0;           // complete responses received
    uint64_t failures = 0;            // calls that completed with an error
    uint64_t connections_opened = 0;  // TCP (+TLS) connections established
    uint64_t connections_reused = 0;  // requests sent on a pooled connection
    uint64_t stale_reconnects = 0;    // pooled connection found dead, retried once
    uint64_t timeouts = 0;            // connect or request deadline hits
    uint64_t bytes_sent = 0;          // request bodies
    uint64_t bytes_received = 0;      // response bodies
  };

  // Runs on `loop` (which must outlive the client), or on a private
  // one-thread loop when it is nullptr. Fails with kFailedPrecondition when
  // the TLS context cannot be set up (e.g. ca_file unreadable),
  // kInvalidArgument for unusable options (max_connections_per_endpoint 0).
  static Result<std::unique_ptr<HttpClient>> Create(Options options, IoLoop* loop = nullptr);

  // Completes every call in flight with kCancelled and returns after the
  // last callback: on the loop when it is running (waiting for it), here
  // when it is stopped. RunAfter() functions not yet run are dropped.
  // REQUIRES: not called on a loop thread (a callback included), and not
  // while another thread is stopping the loop.
  ~HttpClient();

  void Send(const HttpEndpoint& endpoint, HttpRequest request, HttpCallback done);

  // Runs `fn` on the client's strand after `delay` (for retry backoff
  // without a thread of its own). Dropped, not run, if the client is
  // destroyed first.
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> fn);

  Stats stats() const;
  const Options& options() const;

 private:
  struct Impl;
  HttpClient(std::unique_ptr<IoLoop> own_loop, IoLoop* loop, std::shared_ptr<Impl> impl);
  // Declared first, destroyed last: a private loop stops after impl_ is let go.
  std::unique_ptr<IoLoop> own_loop_;
  IoLoop* loop_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace freshet
