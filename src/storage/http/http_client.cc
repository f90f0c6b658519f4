// HttpClient on Boost.Beast: C++20 coroutines (one per call) on a strand of
// an IoLoop (the daemon's, or a private one-thread loop), a keep-alive pool
// per endpoint.
//
// Threading: everything below Send()/RunAfter() runs on the client's
// strand, so the pool, the calls and the connections need no locks: every
// socket, timer and resolver is created on the strand, so callback-style
// handlers run there too, and the coroutines are spawned there. Only the
// counters (atomics), `stopping` and the set of outstanding calls (under
// `calls_mu`) are touched from other threads. Send() and RunAfter() only
// post. One strand is plenty for an object-store client (network time
// dominates; TLS record crypto runs at GB/s), and it keeps the pool logic
// free of cross-thread handoffs.
//
// Lifetime: coroutines and handlers hold the Impl by shared_ptr, so one
// that outlives the HttpClient (left queued on a stopped shared loop, and
// destroyed with it) never touches freed memory.
//
// Deadlines: each call has one watchdog timer, armed for the current phase
// (queue, connect, write, read). When it fires, Abort() cancels whatever the
// call is suspended on (queue wait, resolver, socket) and the call fails
// with kDeadlineExceeded naming that phase. Shutdown uses the same path
// with kCancelled.
#include "storage/http/http_client.h"
#include "base/ascii.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace freshet {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
// S3 response headers are small; 64 KiB leaves room for long x-amz-* sets.
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// "GET http://host:port/path": what error messages say about a call. The
// query is left out (presigned URLs carry credentials there), and so are
// header values (Authorization).
std::string Describe(const HttpEndpoint& endpoint, std::string_view method, std::string_view target) {
  std::string s(method);
  s += ' ';
  s += endpoint.ToString();
  s += target.substr(0, target.find('?'));
  return s;
}

std::string Millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// The peer closed (or reset) the connection: on a reused connection with
// no response byte yet, the request is repeated once on a fresh one.
bool IsPeerGone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

struct Connection {
  // The read buffer starts at 64 KiB: Beast sizes each socket read from the
  // buffer's capacity, and a small buffer meant ~8k recv calls per 4 MiB body.
  Connection(const Strand& strand, uint64_t id_in) : socket(strand), idle_timer(strand), id(id_in) {
    buffer.reserve(64 * 1024);
  }

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  // No TLS close_notify: S3 endpoints often just close, and waiting for
  // theirs would only delay us. The peer sees a TCP FIN.
  void Close() {
    error_code ignored;
    lowest().close(ignored);
  }

  tcp::socket socket;                              // plain HTTP
  std::unique_ptr<ssl::stream<tcp::socket>> tls;   // HTTPS: owns the socket instead
  boost::beast::flat_buffer buffer;                // bytes read past a response
  asio::steady_timer idle_timer;
  uint64_t id;
  uint64_t idle_seq = 0;  // bumped each time the connection enters the pool
  bool in_pool = false;
};

struct Call;

struct Pool {
  std::vector<std::shared_ptr<Connection>> idle;  // back = most recently used
  std::deque<std::shared_ptr<Call>> waiters;      // FIFO
  uint32_t open = 0;                              // in use + idle + being connected
};

enum class AbortReason { kNone, kTimeout, kCancel };

struct Call {
  // Set by Send() before the call is handed to the strand.
  HttpEndpoint endpoint;
  std::string pool_key;
  std::string what;  // Describe()
  bool head = false;
  http::request<http::string_body> req;
  HttpCallback done;
  SteadyClock::time_point deadline;
  std::chrono::milliseconds timeout{0};

  // The strand only from here on.
  bool finished = false;
  AbortReason abort = AbortReason::kNone;
  const char* phase = "queue";
  const char* abort_phase = "";
  std::string budget;  // which limit the watchdog enforces, for messages
  std::optional<asio::steady_timer> watchdog;
  uint64_t watchdog_gen = 0;
  // While queued for a connection: woken by cancelling wait_timer.
  std::optional<asio::steady_timer> wait_timer;
  bool queued = false;
  std::shared_ptr<Connection> granted;
  bool granted_slot = false;
  std::optional<tcp::resolver> resolver;
  // The lease: a slot in `pool` (counted in pool->open) and, once
  // connected or taken from the pool, its connection.
  Pool* pool = nullptr;
  bool holds_slot = false;
  std::shared_ptr<Connection> conn;
  bool conn_reusable = false;
};

struct ExchangeOutcome {
  Status status;
  HttpResponse response;
  bool stale = false;  // peer gone before any response byte
};

void Invoke(HttpCallback& done, Result<HttpResponse> result) noexcept { done(std::move(result)); }

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(Options o, asio::io_context& io)
      : options(std::move(o)), ssl_ctx(ssl::context::tls_client), strand(asio::make_strand(io)) {}

  // ---- any thread ----
  void Send(const HttpEndpoint& endpoint, HttpRequest request, HttpCallback done);
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> fn);
  Status BuildRequest(const HttpEndpoint& endpoint, HttpRequest& in, Call& call) const;
  void Refuse(HttpCallback& done, Status status) {
    counters.failures++;
    Invoke(done, std::move(status));
  }

  // ---- the strand ----
  // `self` keeps the Impl alive for as long as the coroutine frame exists.
  asio::awaitable<void> RunCall(std::shared_ptr<Impl> self, std::shared_ptr<Call> call);
  asio::awaitable<Result<HttpResponse>> Perform(std::shared_ptr<Call> call);
  asio::awaitable<Status> Acquire(std::shared_ptr<Call> call);
  asio::awaitable<Status> Connect(std::shared_ptr<Call> call);
  asio::awaitable<ExchangeOutcome> Exchange(std::shared_ptr<Call> call);
  template <class Stream>
  asio::awaitable<ExchangeOutcome> ExchangeOn(std::shared_ptr<Call> call, std::shared_ptr<Connection> conn,
                                              Stream& stream);
  void Finish(const std::shared_ptr<Call>& call, Result<HttpResponse> result);

  Pool& PoolFor(const std::string& key);
  void ReleaseLease(Call& call);
  void ReturnToPool(Pool& pool, std::shared_ptr<Connection> conn);
  void CloseAndFreeSlot(Pool& pool, Connection* conn);
  void GrantSlot(Pool& pool);
  void OnIdleExpired(Pool* pool, const std::weak_ptr<Connection>& weak, uint64_t seq);

  void ArmWatchdog(const std::shared_ptr<Call>& call, SteadyClock::time_point at, std::string budget);
  void SetPhase(const std::shared_ptr<Call>& call, const char* phase);
  void Abort(Call& call, AbortReason reason);
  Status AbortStatus(const Call& call) const;
  Status StartTls(Call& call, Connection& conn);
  Status TlsError(const Call& call, Connection& conn, const error_code& ec) const;
  Status ReadError(const Call& call, const http::response_parser<http::string_body>& parser,
                   const error_code& ec) const;
  // Aborts every call, closes pooled connections, drops RunAfter timers.
  void Shutdown();
  // Completes every outstanding call that has not finished with kCancelled.
  // REQUIRES: no loop thread runs the strand (the loop is stopped).
  void CancelOutstanding();
  // Blocks until every outstanding call has finished.
  void WaitDrained();

  // Completion handlers as named structs (g++ 12 and capturing lambdas in
  // coroutine code do not mix well).
  struct WatchdogFired;
  struct IdleExpired;
  struct TimerFired;
  struct StartTimer;
  struct ShutdownOp;

  const Options options;
  ssl::context ssl_ctx;
  Strand strand;
  std::atomic<bool> stopping{false};

  // Every call from Send() until Finish(): what shutdown cancels or waits
  // for, including calls whose coroutine has not started yet.
  std::mutex calls_mu;
  std::condition_variable drained;
  std::unordered_set<std::shared_ptr<Call>> outstanding;

  struct Counters {
    std::atomic<uint64_t> requests{0}, responses{0}, failures{0}, connections_opened{0},
        connections_reused{0}, stale_reconnects{0}, timeouts{0}, bytes_sent{0}, bytes_received{0};
  } counters;

  // The strand only.
  std::unordered_map<std::string, std::unique_ptr<Pool>> pools;
  uint64_t queued_total = 0;
  std::unordered_set<Call*> active;  // coroutine started, not finished
  uint64_t next_conn_id = 0;
  std::unordered_map<uint64_t, std::unique_ptr<asio::steady_timer>> timers;  // RunAfter
  uint64_t next_timer_id = 0;
};

struct HttpClient::Impl::WatchdogFired {
  std::shared_ptr<Impl> impl;
  std::shared_ptr<Call> call;
  uint64_t gen;
  void operator()(error_code ec);
};

struct HttpClient::Impl::IdleExpired {
  std::shared_ptr<Impl> impl;
  Pool* pool;
  std::weak_ptr<Connection> conn;
  uint64_t seq;
  void operator()(error_code ec) {
    if (ec) return;  // cancelled: taken from the pool or shutting down
    impl->OnIdleExpired(pool, conn, seq);
  }
};

struct HttpClient::Impl::TimerFired {
  std::shared_ptr<Impl> impl;
  uint64_t id;
  std::function<void()> fn;
  void operator()(error_code ec) {
    impl->timers.erase(id);
    if (ec || impl->stopping.load()) return;  // dropped, not run
    fn();
  }
};

struct HttpClient::Impl::StartTimer {
  std::shared_ptr<Impl> impl;
  SteadyClock::time_point at;
  std::function<void()> fn;
  void operator()() {
    if (impl->stopping.load()) return;
    uint64_t id = ++impl->next_timer_id;
    auto timer = std::make_unique<asio::steady_timer>(impl->strand, at);
    asio::steady_timer& t = *timer;
    impl->timers.emplace(id, std::move(timer));
    t.async_wait(TimerFired{impl, id, std::move(fn)});
  }
};

struct HttpClient::Impl::ShutdownOp {
  std::shared_ptr<Impl> impl;
  void operator()() { impl->Shutdown(); }
};

void HttpClient::Impl::WatchdogFired::operator()(error_code ec) {
  if (ec || gen != call->watchdog_gen || call->finished) return;
  impl->Abort(*call, AbortReason::kTimeout);
}

// ---------------------------------------------------------------------------
// Any thread.

Status HttpClient::Impl::BuildRequest(const HttpEndpoint& endpoint, HttpRequest& in, Call& call) const {
  auto bad = [&](std::string_view problem) {
    return Status::InvalidArgument(call.what + ": " + std::string(problem));
  };
  if (endpoint.host.empty()) return bad("empty host");
  for (char c : endpoint.host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '[' || c == ']' || c == '@') {
      return bad("invalid characters in host");
    }
  }
  if (!IsToken(in.method)) return bad("method is not an HTTP token");
  if (in.target.empty() || (in.target.front() != '/' && in.target != "*")) {
    return bad("request target must start with '/'");
  }
  for (char c : in.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("whitespace or control characters in target");
  }
  bool has_host = false;
  bool has_length = false;
  for (const auto& [name, value] : in.headers) {
    // Values are never quoted back: they may be credentials.
    if (!IsToken(name)) return bad("header name is not an HTTP token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return bad("header " + name + " has CR, LF or NUL in its value");
    }
    if (EqualsIgnoreCase(name, "host")) has_host = true;
    if (EqualsIgnoreCase(name, "transfer-encoding")) return bad("Transfer-Encoding is not supported in requests");
    if (EqualsIgnoreCase(name, "content-length")) {
      has_length = true;
      if (value != std::to_string(in.body.size())) return bad("Content-Length header does not match the body size");
    }
  }

  http::verb verb = http::string_to_verb(in.method);
  call.req.version(11);
  if (verb == http::verb::unknown) {
    call.req.method_string(in.method);
  } else {
    call.req.method(verb);
  }
  call.req.target(in.target);
  if (!has_host) call.req.set(http::field::host, endpoint.HostHeader());
  for (const auto& [name, value] : in.headers) call.req.insert(name, value);
  if (!has_length && (!in.body.empty() || verb == http::verb::put || verb == http::verb::post ||
                      verb == http::verb::patch)) {
    call.req.content_length(in.body.size());
  }
  call.req.body() = std::move(in.body);
  call.head = verb == http::verb::head;
  return Status::Ok();
}

void HttpClient::Impl::Send(const HttpEndpoint& endpoint, HttpRequest request, HttpCallback done) {
  counters.requests++;
  auto call = std::make_shared<Call>();
  call->what = Describe(endpoint, request.method, request.target);
  if (stopping.load()) return Refuse(done, Status::Cancelled(call->what + ": client shutting down"));
  Status built = BuildRequest(endpoint, request, *call);
  if (!built.ok()) return Refuse(done, std::move(built));
  call->endpoint = endpoint;
  std::string host = endpoint.host;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  call->pool_key = (endpoint.tls ? "https://" : "http://") + host + ":" + std::to_string(endpoint.EffectivePort());
  call->done = std::move(done);
  call->timeout = request.timeout.value_or(options.request_timeout);
  call->deadline = SteadyClock::now() + call->timeout;
  {
    std::lock_guard lock(calls_mu);
    outstanding.insert(call);
  }
  asio::co_spawn(strand, RunCall(shared_from_this(), std::move(call)), asio::detached);
}

void HttpClient::Impl::RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (stopping.load()) return;
  asio::post(strand, StartTimer{shared_from_this(), SteadyClock::now() + delay, std::move(fn)});
}

// ---------------------------------------------------------------------------
// The strand: one call.

asio::awaitable<void> HttpClient::Impl::RunCall(std::shared_ptr<Impl> self, std::shared_ptr<Call> call) {
  (void)self;
  std::optional<Result<HttpResponse>> result;
  try {
    result.emplace(co_await Perform(call));
  } catch (const std::exception& e) {
    result.emplace(Status::Internal(call->what + ": " + e.what()));
  }
  // Already finished when a stopped loop's client cancelled it directly.
  if (!call->finished) Finish(call, std::move(*result));
}

asio::awaitable<Result<HttpResponse>> HttpClient::Impl::Perform(std::shared_ptr<Call> call) {
  if (stopping.load()) co_return Status::Cancelled(call->what + ": client shutting down");
  active.insert(call.get());
  call->watchdog.emplace(strand);
  ArmWatchdog(call, call->deadline, "request timeout " + Millis(call->timeout));

  Status st = co_await Acquire(call);
  if (!st.ok()) co_return st;
  bool reused = call->conn != nullptr;
  if (reused) {
    counters.connections_reused++;
  } else {
    st = co_await Connect(call);
    if (!st.ok()) co_return st;
  }
  ExchangeOutcome out = co_await Exchange(call);
  if (!out.status.ok() && out.stale && reused && call->abort == AbortReason::kNone) {
    // The pooled connection was dead (closed by the server while idle, or
    // closed on our request without answering): try once on a new one.
    counters.stale_reconnects++;
    call->conn->Close();
    call->conn = nullptr;
    st = co_await Connect(call);
    if (!st.ok()) co_return st;
    out = co_await Exchange(call);
  }
  if (!out.status.ok()) co_return out.status;
  co_return std::move(out.response);
}

asio::awaitable<Status> HttpClient::Impl::Acquire(std::shared_ptr<Call> call) {
  Pool& pool = PoolFor(call->pool_key);
  call->pool = &pool;
  while (!pool.idle.empty()) {
    std::shared_ptr<Connection> c = std::move(pool.idle.back());
    pool.idle.pop_back();
    c->in_pool = false;
    c->idle_timer.cancel();
    // A connection the server closed while it sat idle shows EOF (or
    // unsolicited bytes, e.g. a 408 or a TLS close_notify) without a read:
    // drop it here rather than fail a request on it.
    char byte;
    ssize_t n = ::recv(c->lowest().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      c->Close();
      pool.open--;
      continue;
    }
    call->holds_slot = true;
    call->conn = std::move(c);
    call->conn_reusable = true;
    co_return Status::Ok();
  }
  if (pool.open < options.max_connections_per_endpoint) {
    pool.open++;
    call->holds_slot = true;
    co_return Status::Ok();
  }
  if (queued_total >= options.max_queued_requests) {
    co_return Status::Unavailable(call->what + ": connection pool queue full (" + std::to_string(queued_total) +
                                  " requests waiting)");
  }
  pool.waiters.push_back(call);
  call->queued = true;
  queued_total++;
  call->wait_timer.emplace(strand, SteadyClock::time_point::max());
  // Woken (operation_aborted) by a grant or by Abort().
  auto [ec] = co_await call->wait_timer->async_wait(kAsTuple);
  (void)ec;
  call->wait_timer.reset();
  if (call->queued) {
    pool.waiters.erase(std::find(pool.waiters.begin(), pool.waiters.end(), call));
    call->queued = false;
    queued_total--;
  }
  if (call->granted || call->granted_slot) {
    call->holds_slot = true;
    call->conn = std::move(call->granted);
    call->conn_reusable = call->conn != nullptr;
    call->granted_slot = false;
  }
  // A lease granted together with an abort goes back in Finish().
  if (call->abort != AbortReason::kNone) co_return AbortStatus(*call);
  if (!call->holds_slot) co_return Status::Internal(call->what + ": woken without a connection");
  co_return Status::Ok();
}

asio::awaitable<Status> HttpClient::Impl::Connect(std::shared_ptr<Call> call) {
  SteadyClock::time_point connect_deadline = SteadyClock::now() + options.connect_timeout;
  if (connect_deadline < call->deadline) {
    ArmWatchdog(call, connect_deadline, "connect_timeout " + Millis(options.connect_timeout));
  }
  SetPhase(call, "connect");
  const HttpEndpoint& ep = call->endpoint;
  auto flags = tcp::resolver::numeric_service;
  if (IsIpLiteral(ep.host)) flags |= tcp::resolver::numeric_host;
  call->resolver.emplace(strand);
  auto [rec, results] = co_await call->resolver->async_resolve(ep.host, std::to_string(ep.EffectivePort()), flags,
                                                               kAsTuple);
  call->resolver.reset();
  if (call->abort != AbortReason::kNone) co_return AbortStatus(*call);
  if (rec) co_return Status::Unavailable(call->what + ": DNS lookup of " + ep.host + " failed: " + rec.message());

  call->conn = std::make_shared<Connection>(strand, ++next_conn_id);
  call->conn_reusable = false;
  std::shared_ptr<Connection> conn = call->conn;
  auto [cec, endpoint] = co_await asio::async_connect(conn->socket, results, kAsTuple);
  (void)endpoint;
  if (call->abort != AbortReason::kNone) co_return AbortStatus(*call);
  if (cec) co_return Status::Unavailable(call->what + ": connect failed: " + cec.message());
  error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);

  if (ep.tls) {
    Status st = StartTls(*call, *conn);
    if (!st.ok()) co_return st;
    auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kAsTuple);
    if (call->abort != AbortReason::kNone) co_return AbortStatus(*call);
    if (hec) co_return TlsError(*call, *conn, hec);
  }
  counters.connections_opened++;
  if (connect_deadline < call->deadline) {
    ArmWatchdog(call, call->deadline, "request timeout " + Millis(call->timeout));
  }
  co_return Status::Ok();
}

asio::awaitable<ExchangeOutcome> HttpClient::Impl::Exchange(std::shared_ptr<Call> call) {
  std::shared_ptr<Connection> conn = call->conn;
  if (conn->tls) co_return co_await ExchangeOn(call, conn, *conn->tls);
  co_return co_await ExchangeOn(call, conn, conn->socket);
}

template <class Stream>
asio::awaitable<ExchangeOutcome> HttpClient::Impl::ExchangeOn(std::shared_ptr<Call> call,
                                                              std::shared_ptr<Connection> conn, Stream& stream) {
  ExchangeOutcome out;
  call->conn_reusable = false;
  SetPhase(call, "write");
  auto [wec, written] = co_await http::async_write(stream, call->req, kAsTuple);
  (void)written;
  if (call->abort != AbortReason::kNone) {
    out.status = AbortStatus(*call);
    co_return out;
  }
  if (wec) {
    out.status = Status::Unavailable(call->what + ": sending the request failed: " + wec.message());
    out.stale = IsPeerGone(wec) && conn->buffer.size() == 0;
    co_return out;
  }
  counters.bytes_sent += call->req.body().size();

  SetPhase(call, "read");
  bool got_bytes = false;
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(options.max_body_bytes);
    if (call->head) parser.skip(true);
    bool buffered = conn->buffer.size() > 0;
    auto [rec, read] = co_await http::async_read(stream, conn->buffer, parser, kAsTuple);
    (void)read;
    got_bytes = got_bytes || buffered || parser.got_some();
    if (call->abort != AbortReason::kNone) {
      out.status = AbortStatus(*call);
      co_return out;
    }
    if (rec == ssl::error::stream_truncated && parser.is_header_done() && parser.need_eof()) {
      // A TLS peer that ends an EOF-delimited body without close_notify:
      // the body is complete as far as HTTP is concerned.
      error_code eof_ec;
      parser.put_eof(eof_ec);
      rec = eof_ec;
    }
    if (rec) {
      out.status = ReadError(*call, parser, rec);
      out.stale = !got_bytes && IsPeerGone(rec);
      co_return out;
    }
    int status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;  // interim (100 Continue): read on

    bool reusable = parser.get().keep_alive() && !parser.upgrade() && conn->buffer.size() == 0;
    http::response<http::string_body> msg = parser.release();
    out.response.status = msg.result_int();
    out.response.reason = std::string(msg.reason());
    for (const auto& field : msg) {
      out.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.response.body = std::move(msg.body());
    counters.bytes_received += out.response.body.size();
    call->conn_reusable = reusable;
    co_return out;
  }
}

void HttpClient::Impl::Finish(const std::shared_ptr<Call>& call, Result<HttpResponse> result) {
  call->finished = true;
  active.erase(call.get());
  if (call->watchdog) call->watchdog->cancel();
  ReleaseLease(*call);
  if (result.ok()) {
    counters.responses++;
  } else {
    counters.failures++;
    if (result.status().code() == StatusCode::kDeadlineExceeded) counters.timeouts++;
  }
  HttpCallback done = std::move(call->done);
  Invoke(done, std::move(result));
  // Only now: a destructor waiting for the drain must see the callback done.
  std::lock_guard lock(calls_mu);
  outstanding.erase(call);
  if (outstanding.empty()) drained.notify_all();
}

// ---------------------------------------------------------------------------
// The strand: the pool.

Pool& HttpClient::Impl::PoolFor(const std::string& key) {
  std::unique_ptr<Pool>& p = pools[key];
  if (!p) p = std::make_unique<Pool>();
  return *p;
}

void HttpClient::Impl::ReleaseLease(Call& call) {
  if (!call.holds_slot) return;
  call.holds_slot = false;
  std::shared_ptr<Connection> conn = std::move(call.conn);
  if (conn && call.conn_reusable) {
    ReturnToPool(*call.pool, std::move(conn));
  } else {
    CloseAndFreeSlot(*call.pool, conn.get());
  }
}

void HttpClient::Impl::ReturnToPool(Pool& pool, std::shared_ptr<Connection> conn) {
  if (stopping.load()) return CloseAndFreeSlot(pool, conn.get());
  if (!pool.waiters.empty()) {
    std::shared_ptr<Call> next = std::move(pool.waiters.front());
    pool.waiters.pop_front();
    next->queued = false;
    queued_total--;
    next->granted = std::move(conn);
    next->wait_timer->cancel();
    return;
  }
  conn->in_pool = true;
  uint64_t seq = ++conn->idle_seq;
  conn->idle_timer.expires_after(options.idle_timeout);
  conn->idle_timer.async_wait(IdleExpired{shared_from_this(), &pool, conn, seq});
  pool.idle.push_back(std::move(conn));
}

void HttpClient::Impl::CloseAndFreeSlot(Pool& pool, Connection* conn) {
  if (conn) conn->Close();
  pool.open--;
  GrantSlot(pool);
}

void HttpClient::Impl::GrantSlot(Pool& pool) {
  if (pool.waiters.empty() || pool.open >= options.max_connections_per_endpoint) return;
  std::shared_ptr<Call> next = std::move(pool.waiters.front());
  pool.waiters.pop_front();
  next->queued = false;
  queued_total--;
  pool.open++;
  next->granted_slot = true;
  next->wait_timer->cancel();
}

void HttpClient::Impl::OnIdleExpired(Pool* pool, const std::weak_ptr<Connection>& weak, uint64_t seq) {
  std::shared_ptr<Connection> conn = weak.lock();
  if (!conn || !conn->in_pool || conn->idle_seq != seq) return;
  conn->in_pool = false;
  pool->idle.erase(std::find(pool->idle.begin(), pool->idle.end(), conn));
  CloseAndFreeSlot(*pool, conn.get());
}

// ---------------------------------------------------------------------------
// The strand: deadlines, cancellation, errors.

void HttpClient::Impl::ArmWatchdog(const std::shared_ptr<Call>& call, SteadyClock::time_point at, std::string budget) {
  uint64_t gen = ++call->watchdog_gen;
  call->budget = std::move(budget);
  call->watchdog->expires_at(at);
  call->watchdog->async_wait(WatchdogFired{shared_from_this(), call, gen});
}

void HttpClient::Impl::SetPhase(const std::shared_ptr<Call>& call, const char* phase) { call->phase = phase; }

void HttpClient::Impl::Abort(Call& call, AbortReason reason) {
  if (call.abort != AbortReason::kNone || call.finished) return;
  call.abort = reason;
  call.abort_phase = call.phase;
  // Whatever the call is suspended on completes with operation_aborted.
  if (call.wait_timer) call.wait_timer->cancel();
  if (call.resolver) call.resolver->cancel();
  if (call.conn) {
    call.conn->Close();
    call.conn_reusable = false;
  }
}

Status HttpClient::Impl::AbortStatus(const Call& call) const {
  if (call.abort == AbortReason::kCancel) return Status::Cancelled(call.what + ": client shutting down");
  std::string phase = call.abort_phase;
  if (phase == "queue") phase = "waiting for a pooled connection";
  return Status::DeadlineExceeded(call.what + ": " + phase + " timed out (" + call.budget + ")");
}

Status HttpClient::Impl::StartTls(Call& call, Connection& conn) {
  conn.tls = std::make_unique<ssl::stream<tcp::socket>>(std::move(conn.socket), ssl_ctx);
  SSL* ssl_handle = conn.tls->native_handle();
  const std::string& host = call.endpoint.host;
  bool ip = IsIpLiteral(host);
  // SNI carries DNS names only (RFC 6066).
  if (!ip && SSL_set_tlsext_host_name(ssl_handle, host.c_str()) != 1) {
    return Status::InvalidArgument(call.what + ": host name rejected for SNI");
  }
  error_code ec;
  if (options.verify_tls) {
    conn.tls->set_verify_mode(ssl::verify_peer, ec);
    // OpenSSL checks the name (or IP) itself, so a mismatch shows as a
    // verification error with its own reason.
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), host.c_str())
                : SSL_set1_host(ssl_handle, host.c_str());
    if (ok != 1) return Status::InvalidArgument(call.what + ": cannot verify TLS for this host name");
  } else {
    conn.tls->set_verify_mode(ssl::verify_none, ec);
  }
  if (ec) return Status::Internal(call.what + ": TLS setup failed: " + ec.message());
  return Status::Ok();
}

Status HttpClient::Impl::TlsError(const Call& call, Connection& conn, const error_code& ec) const {
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long result = SSL_get_verify_result(conn.tls->native_handle());
    return Status::FailedPrecondition(call.what + ": TLS certificate verification failed: " +
                                      X509_verify_cert_error_string(result));
  }
  return Status::Unavailable(call.what + ": TLS handshake failed: " + ec.message());
}

Status HttpClient::Impl::ReadError(const Call& call, const http::response_parser<http::string_body>& parser,
                                   const error_code& ec) const {
  if (ec == http::error::body_limit) {
    return Status::DataLoss(call.what + ": response body over max_body_bytes (" +
                            std::to_string(options.max_body_bytes) + ")");
  }
  if (!parser.got_some()) {
    return Status::Unavailable(call.what + ": connection closed before a response (" + ec.message() + ")");
  }
  if (!IsPeerGone(ec)) return Status::Unavailable(call.what + ": malformed response: " + ec.message());
  if (!parser.is_header_done()) {
    return Status::Unavailable(call.what + ": connection closed in the response header (" + ec.message() + ")");
  }
  std::string got = std::to_string(parser.get().body().size());
  std::string how = ec == asio::error::connection_reset ? "connection reset: " : "";
  if (parser.chunked()) {
    return Status::Unavailable(call.what + ": " + how + "truncated chunked body (got " + got +
                               " bytes, no last chunk)");
  }
  if (parser.content_length()) {
    return Status::Unavailable(call.what + ": " + how + "truncated body (got " + got + " of " +
                               std::to_string(*parser.content_length()) + " bytes)");
  }
  return Status::Unavailable(call.what + ": " + how + "truncated body (got " + got + " bytes)");
}

void HttpClient::Impl::Shutdown() {
  std::vector<Call*> calls(active.begin(), active.end());
  for (Call* call : calls) Abort(*call, AbortReason::kCancel);
  for (auto& [key, pool] : pools) {
    for (auto& conn : pool->idle) {
      conn->in_pool = false;
      conn->idle_timer.cancel();
      conn->Close();
      pool->open--;
    }
    pool->idle.clear();
  }
  for (auto& [id, timer] : timers) timer->cancel();
}

void HttpClient::Impl::CancelOutstanding() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(calls_mu);
    calls.assign(outstanding.begin(), outstanding.end());
  }
  for (const auto& call : calls) {
    if (!call->finished) Finish(call, Status::Cancelled(call->what + ": client shutting down"));
  }
}

void HttpClient::Impl::WaitDrained() {
  std::unique_lock lock(calls_mu);
  drained.wait(lock, [this] { return outstanding.empty(); });
}

// ---------------------------------------------------------------------------
// HttpClient.

Result<std::unique_ptr<HttpClient>> HttpClient::Create(Options options, IoLoop* loop) {
  if (options.max_connections_per_endpoint == 0) {
    return Status::InvalidArgument("HttpClient: max_connections_per_endpoint must be at least 1");
  }
  std::unique_ptr<IoLoop> own_loop;
  if (loop == nullptr) {
    own_loop = std::make_unique<IoLoop>(1, "http");
    loop = own_loop.get();
  }
  auto impl = std::make_shared<Impl>(std::move(options), loop->context());
  error_code ec;
  impl->ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                                ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                            ec);
  if (!ec) impl->ssl_ctx.set_default_verify_paths(ec);
  if (ec) return Status::FailedPrecondition("HttpClient: TLS setup failed: " + ec.message());
  if (!impl->options.ca_file.empty()) {
    impl->ssl_ctx.load_verify_file(impl->options.ca_file, ec);
    if (ec) {
      return Status::FailedPrecondition("HttpClient: cannot load CA file " + impl->options.ca_file + ": " +
                                        ec.message());
    }
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(own_loop), loop, std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<IoLoop> own_loop, IoLoop* loop, std::shared_ptr<Impl> impl)
    : own_loop_(std::move(own_loop)), loop_(loop), impl_(std::move(impl)) {}

// With the loop running, Shutdown() on the strand aborts every call; each
// completes with kCancelled on the loop, and the destructor waits for the
// last callback. With the loop stopped nothing else runs the strand, so the
// destructor does both itself. Handlers left queued on a stopped loop hold
// the Impl and are destroyed with the loop; a private loop is stopped here,
// after impl_ (declared after it) has let go.
HttpClient::~HttpClient() {
  impl_->stopping.store(true);
  if (loop_->running()) {
    asio::post(impl_->strand, Impl::ShutdownOp{impl_});
    impl_->WaitDrained();
  } else {
    impl_->Shutdown();
    impl_->CancelOutstanding();
  }
}

void HttpClient::Send(const HttpEndpoint& endpoint, HttpRequest request, HttpCallback done) {
  impl_->Send(endpoint, std::move(request), std::move(done));
}

void HttpClient::RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->RunAfter(delay, std::move(fn));
}

HttpClient::Stats HttpClient::stats() const {
  const auto& c = impl_->counters;
  Stats s;
  s.requests = c.requests.load();
  s.responses = c.responses.load();
  s.failures = c.failures.load();
  s.connections_opened = c.connections_opened.load();
  s.connections_reused = c.connections_reused.load();
  s.stale_reconnects = c.stale_reconnects.load();
  s.timeouts = c.timeouts.load();
  s.bytes_sent = c.bytes_sent.load();
  s.bytes_received = c.bytes_received.load();
  return s;
}

const HttpClient::Options& HttpClient::options() const { return impl_->options; }

}  // namespace freshet
