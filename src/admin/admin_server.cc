// AdminServer on Boost.Beast: an accept loop and one coroutine per
// connection, all on one strand of the caller's io_context (so the server
// is also safe on an io_context run by several threads, and Stop() can
// reach every connection without locks).
//
// Deadlines use beast::tcp_stream::expires_after, one per phase:
// - a request: `read_timeout` from the moment its first byte is awaited
//   (the first request on a connection: from the accept), headers and body
//   together, so a slow-loris client that drips bytes is cut off;
// - between keep-alive requests: `idle_timeout` for the next request's
//   first bytes (expiry here is a normal close, not counted as a timeout);
// - a response: `write_timeout`.
//
// Connections that end with an error response (400, 413) close with a
// short "lingering close": we stop sending and discard what the client is
// still sending for a moment, so our response is not lost to a TCP reset
// caused by unread bytes.
#include "admin/admin_server.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <exception>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace freshet {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
// Lingering close after an error response: at most this long and this many
// discarded bytes.
constexpr std::chrono::milliseconds kLingerTime{500};
constexpr size_t kLingerBytes = 256 * 1024;
// After an accept error other than a client's abort (EMFILE, ENOBUFS), wait
// this long before accepting again instead of spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest Sha256(std::string_view s) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

// Compares digests, so neither the token's bytes nor its length leak
// through timing.
bool TokenMatches(std::string_view given, const Digest& expected) {
  Digest g = Sha256(given);
  return CRYPTO_memcmp(g.data(), expected.data(), g.size()) == 0;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The token of "Bearer <token>" (scheme case-insensitive); "" otherwise.
std::string_view BearerToken(std::string_view authorization) {
  authorization = TrimSpace(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return {};
  }
  return TrimSpace(authorization.substr(kScheme.size()));
}

bool HasLineBreakOrNul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

struct ListenAddress {
  asio::ip::address address;
  uint16_t port = 0;
};

// "host:port" with an IPv4 literal or "localhost", or "[v6]:port".
Result<ListenAddress> ParseListenAddress(const std::string& listen) {
  auto bad = [&](std::string_view why) {
    std::string m = "admin listen address \"";
    m += listen;
    m += "\": ";
    m += why;
    return Status::InvalidArgument(std::move(m));
  };
  std::string_view s = listen;
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == s.npos) return bad("missing ']' after an IPv6 address");
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("expected \":port\" after ']'");
    port = rest.substr(1);
  } else {
    size_t colon = s.rfind(':');
    if (colon == s.npos) return bad("expected host:port (IPv6 as [::1]:9464)");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != host.npos) return bad("an IPv6 address needs brackets, as in [::1]:9464");
  }
  if (host.empty()) return bad("empty host (use 0.0.0.0 for all interfaces)");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  ListenAddress out;
  out.port = static_cast<uint16_t>(value);
  if (host == "localhost") {
    out.address = asio::ip::address_v4::loopback();
    return out;
  }
  error_code parse_ec;
  out.address = asio::ip::make_address(std::string(host), parse_ec);
  if (parse_ec) return bad("host must be an IP address or localhost");
  if (s.front() == '[' && !out.address.is_v6()) return bad("brackets are for IPv6 addresses only");
  return out;
}

// The client is gone or we closed the socket: nothing to answer.
bool IsConnectionEnd(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == asio::error::not_connected;
}

const char* ReasonText(int status) {
  switch (status) {
    case 400: return "bad request\n";
    case 401: return "unauthorized\n";
    case 405: return "method not allowed\n";
    case 413: return "request too large\n";
    case 500: return "internal server error\n";
    default: return "\n";
  }
}

using Response = http::response<http::string_body>;

struct Session {
  explicit Session(tcp::socket socket, uint64_t id_in) : stream(std::move(socket)), id(id_in) {}

  // Strand only. Aborts whatever the session's coroutine waits on.
  void Close() {
    if (closed) return;
    closed = true;
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  const uint64_t id;
  bool closed = false;
};

// What the server does after writing a response.
enum class After { kKeepAlive, kClose, kLingerClose };

}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  Impl(asio::io_context& io_in, AdminServerOptions o, AdminHandler h)
      : io(io_in),
        strand(asio::make_strand(io_in)),
        acceptor(strand),
        backoff(strand),
        options(std::move(o)),
        handler(std::move(h)),
        token_digest(Sha256(options.bearer_token)) {}

  Status Listen(const ListenAddress& address);
  void CloseAll();  // strand only

  asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  asio::awaitable<void> Serve(std::shared_ptr<Impl> keep_alive, std::shared_ptr<Session> s);
  // Reads one request into `parser`. Returns how the read ended: an error
  // code (timeouts, limits, parse errors, the peer leaving) or success.
  asio::awaitable<error_code> ReadRequest(std::shared_ptr<Session> s, bool first,
                                          http::request_parser<http::string_body>& parser);
  asio::awaitable<bool> Write(std::shared_ptr<Session> s, Response& res);
  asio::awaitable<void> LingeringClose(std::shared_ptr<Session> s);

  // Answers one well-formed request: method, auth, handler.
  Response Answer(const http::request<http::string_body>& req);
  Response Plain(int status, unsigned version, bool head);
  Response FromHandler(const AdminResponse& r, unsigned version, bool head);

  struct SpawnDone {
    const char* what;
    void operator()(std::exception_ptr e) const {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("admin server: {} ended with an exception: {}", what, ex.what());
      } catch (...) {
        spdlog::error("admin server: {} ended with an unknown exception", what);
      }
    }
  };

  asio::io_context& io;
  Strand strand;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  const AdminServerOptions options;
  const AdminHandler handler;
  const Digest token_digest;
  uint16_t port = 0;
  std::string url;
  std::atomic<bool> stopped{false};

  // Strand only.
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;
  uint64_t next_session_id = 0;

  struct Counters {
    std::atomic<uint64_t> connections_accepted{0}, connections_rejected{0}, requests{0}, unauthorized{0},
        bad_requests{0}, timeouts{0};
  } counters;
};

Status AdminServer::Impl::Listen(const ListenAddress& address) {
  tcp::endpoint endpoint(address.address, address.port);
  auto fail = [&](std::string_view step, const error_code& ec) {
    std::string m = "admin server: cannot listen on ";
    m += options.listen;
    m += " (";
    m += step;
    m += "): ";
    m += ec.message();
    return Status::Unavailable(std::move(m));
  };
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("socket", ec);
  // A restarted daemon can bind again while the old connections linger in
  // TIME_WAIT.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR", ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind", ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname", ec);
  port = local.port();
  url = "http://";
  if (local.address().is_v6()) {
    url += '[';
    url += local.address().to_string();
    url += ']';
  } else {
    url += local.address().to_string();
  }
  url += ':';
  url += std::to_string(port);
  return Status::Ok();
}

void AdminServer::Impl::CloseAll() {
  error_code ignored;
  acceptor.close(ignored);
  backoff.cancel();
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) s->Close();
  }
}

asio::awaitable<void> AdminServer::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  while (!stopped.load()) {
    auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
    if (stopped.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      if (ec == asio::error::connection_aborted) continue;  // the client gave up first
      spdlog::warn("admin server on {}: accept failed: {} (retrying)", options.listen, ec.message());
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kAsTuple);
      continue;
    }
    if (sessions.size() >= options.max_connections) {
      counters.connections_rejected++;
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    counters.connections_accepted++;
    auto session = std::make_shared<Session>(std::move(socket), ++next_session_id);
    sessions.emplace(session->id, session);
    asio::co_spawn(strand, Serve(self, std::move(session)), SpawnDone{"a connection"});
  }
}

asio::awaitable<error_code> AdminServer::Impl::ReadRequest(std::shared_ptr<Session> s, bool first,
                                                           http::request_parser<http::string_body>& parser) {
  if (!first && s->buffer.size() == 0) {
    // Keep-alive: wait for the next request's first bytes.
    s->stream.expires_after(options.idle_timeout);
    auto [ec, n] = co_await s->stream.async_read_some(s->buffer.prepare(4096), kAsTuple);
    if (ec == beast::error::timeout) co_return asio::error::eof;  // idle: a normal end
    if (ec) co_return ec;
    s->buffer.commit(n);
  }
  if (!first) s->stream.expires_after(options.read_timeout);  // the first request's deadline runs from accept

  // The header and the body together stay within max_request_bytes.
  const uint64_t max = options.max_request_bytes;
  parser.header_limit(static_cast<uint32_t>(std::min<uint64_t>(max, UINT32_MAX)));
  parser.body_limit(max);
  auto [ec, header_bytes] = co_await http::async_read_header(s->stream, s->buffer, parser, kAsTuple);
  if (ec) co_return ec;
  if (parser.is_done()) co_return error_code{};
  const uint64_t left = header_bytes >= max ? 0 : max - header_bytes;
  if (parser.content_length() && *parser.content_length() > left) co_return http::error::body_limit;
  parser.body_limit(left);
  auto [body_ec, body_bytes] = co_await http::async_read(s->stream, s->buffer, parser, kAsTuple);
  (void)body_bytes;
  co_return body_ec;
}

asio::awaitable<bool> AdminServer::Impl::Write(std::shared_ptr<Session> s, Response& res) {
  s->stream.expires_after(options.write_timeout);
  auto [ec, n] = co_await http::async_write(s->stream, res, kAsTuple);
  (void)n;
  if (ec == beast::error::timeout) counters.timeouts++;
  co_return !ec;
}

asio::awaitable<void> AdminServer::Impl::LingeringClose(std::shared_ptr<Session> s) {
  error_code ignored;
  s->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  s->stream.expires_after(kLingerTime);
  std::array<char, 4096> discard;
  size_t total = 0;
  while (!s->closed && total < kLingerBytes) {
    auto [ec, n] = co_await s->stream.async_read_some(asio::buffer(discard), kAsTuple);
    if (ec) break;
    total += n;
  }
}

// The unnamed first parameter is copied into the coroutine frame: it keeps
// the server alive while the connection is served.
asio::awaitable<void> AdminServer::Impl::Serve(std::shared_ptr<Impl>, std::shared_ptr<Session> s) {
  s->stream.expires_after(options.read_timeout);
  for (bool first = true; !s->closed && !stopped.load(); first = false) {
    http::request_parser<http::string_body> parser;
    error_code ec = co_await ReadRequest(s, first, parser);
    if (s->closed || stopped.load()) break;

    Response res;
    After after = After::kKeepAlive;
    if (ec == beast::error::timeout) {
      counters.timeouts++;
      break;
    } else if (ec == http::error::header_limit || ec == http::error::body_limit ||
               ec == http::error::buffer_overflow) {
      counters.bad_requests++;
      res = Plain(413, 11, false);
      after = After::kLingerClose;
    } else if (IsConnectionEnd(ec)) {
      break;
    } else if (ec) {
      counters.bad_requests++;  // a malformed request
      res = Plain(400, 11, false);
      after = After::kLingerClose;
    } else {
      counters.requests++;
      const auto& req = parser.get();
      res = Answer(req);
      if (!req.keep_alive()) after = After::kClose;
    }
    if (after != After::kKeepAlive) res.keep_alive(false);

    bool written = co_await Write(s, res);
    if (!written || s->closed) break;
    if (after == After::kLingerClose) {
      co_await LingeringClose(s);
      break;
    }
    if (after == After::kClose) {
      error_code ignored;
      s->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
  }
  s->Close();
  sessions.erase(s->id);
}

Response AdminServer::Impl::Plain(int status, unsigned version, bool head) {
  AdminResponse r;
  r.status = status;
  r.body = ReasonText(status);
  return FromHandler(r, version, head);
}

Response AdminServer::Impl::FromHandler(const AdminResponse& r, unsigned version, bool head) {
  Response res;
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : r.headers) {
    // Framing is ours; anything else the handler may add or override.
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
        EqualsIgnoreCase(name, "connection")) {
      continue;
    }
    if (EqualsIgnoreCase(name, "content-type") || EqualsIgnoreCase(name, "cache-control")) {
      res.set(name, value);
    } else {
      res.insert(name, value);
    }
  }
  res.content_length(r.body.size());
  if (!head) res.body() = r.body;
  return res;
}

Response AdminServer::Impl::Answer(const http::request<http::string_body>& req) {
  const bool head = req.method() == http::verb::head;
  const unsigned version = req.version();
  Response res;
  if (req.method() != http::verb::get && !head) {
    counters.bad_requests++;
    AdminResponse r;
    r.status = 405;
    r.body = ReasonText(405);
    r.headers.emplace_back("Allow", "GET, HEAD");
    res = FromHandler(r, version, head);
  } else {
    AdminRequest request;
    request.method = head ? "HEAD" : "GET";
    request.target = std::string(req.target());
    size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string::npos ? "" : request.target.substr(q + 1);

    bool open = options.bearer_token.empty() ||
                std::find(options.open_paths.begin(), options.open_paths.end(), request.path) !=
                    options.open_paths.end();
    if (!open) {
      auto it = req.find(http::field::authorization);
      open = it != req.end() && TokenMatches(BearerToken(it->value()), token_digest);
    }
    if (!open) {
      counters.unauthorized++;
      AdminResponse r;
      r.status = 401;
      r.body = ReasonText(401);
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      res = FromHandler(r, version, head);
    } else {
      AdminResponse r;
      std::string failure;
      try {
        r = handler(request);
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "unknown exception";
      }
      if (failure.empty() && (r.status < 100 || r.status > 599)) {
        failure = "invalid status " + std::to_string(r.status);
      }
      if (failure.empty() && HasLineBreakOrNul(r.content_type)) failure = "CR/LF in Content-Type";
      for (const auto& [name, value] : r.headers) {
        if (failure.empty() && (name.empty() || HasLineBreakOrNul(name) || HasLineBreakOrNul(value) ||
                                name.find_first_of(" \t:") != std::string::npos)) {
          failure = "invalid header \"" + name.substr(0, 64) + "\"";
        }
      }
      if (!failure.empty()) {
        spdlog::error("admin server: handler for {} {} failed: {}", request.method, request.path, failure);
        r = AdminResponse{};
        r.status = 500;
        r.body = ReasonText(500);
      }
      res = FromHandler(r, version, head);
    }
  }
  res.keep_alive(req.keep_alive());
  return res;
}

AdminServer::AdminServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() { Stop(); }

Result<std::unique_ptr<AdminServer>> AdminServer::Start(asio::io_context& io, AdminServerOptions options,
                                                         AdminHandler handler) {
  auto address = ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  if (!handler) return Status::InvalidArgument("admin server: no handler");
  if (options.max_connections == 0) return Status::InvalidArgument("admin server: max_connections must be > 0");
  if (options.max_request_bytes == 0) {
    return Status::InvalidArgument("admin server: max_request_bytes must be > 0");
  }
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(handler));
  Status listening = impl->Listen(*address);
  if (!listening.ok()) return listening;
  asio::co_spawn(impl->strand, impl->AcceptLoop(impl), Impl::SpawnDone{"the accept loop"});
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

uint16_t AdminServer::port() const { return impl_->port; }

std::string AdminServer::url() const { return impl_->url; }

AdminServer::Stats AdminServer::stats() const {
  const auto& c = impl_->counters;
  Stats s;
  s.connections_accepted = c.connections_accepted.load();
  s.connections_rejected = c.connections_rejected.load();
  s.requests = c.requests.load();
  s.unauthorized = c.unauthorized.load();
  s.bad_requests = c.bad_requests.load();
  s.timeouts = c.timeouts.load();
  return s;
}

// On the strand: done when Stop() returns if called there (the handler);
// from elsewhere it is posted, and done once the io_context runs it. New
// connections and requests are refused from the moment Stop() is called
// either way. `closed` runs on the strand after the closing.
void AdminServer::Stop(std::function<void()> closed) {
  const bool first = !impl_->stopped.exchange(true);
  if (!first && !closed) return;
  asio::dispatch(impl_->strand, [impl = impl_, first, closed = std::move(closed)] {
    if (first) impl->CloseAll();
    if (closed) closed();
  });
}

}  // namespace freshet
