// AdminServer over real sockets: the server runs on a private io_context
// driven by a thread; requests come from testing::RawHttp (one request per
// connection) or from a plain socket (keep-alive, pipelining, slow and
// silent clients, garbage). Deadlines here are generous upper bounds only.
#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "testing/raw_http.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using testing::RawHttp;
using testing::RawHttpOutcome;
using testing::RawHttpRequest;
using testing::RawHttpResponse;

// A blocking TCP client on 127.0.0.1 that keeps what it read, so several
// responses can be taken from one connection.
class Client {
 public:
  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-case
    std::string body;
  };

  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads more bytes into the buffer: false at EOF, on an error (reset) or
  // when `deadline` passes first (then timed_out() is true).
  bool ReadMore(SteadyClock::time_point deadline) {
    timed_out_ = false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) {
      timed_out_ = true;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r == 0) {
      timed_out_ = true;
      return false;
    }
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  // One response (Content-Length framing; no body after HEAD), or nullopt
  // when the connection ended or the deadline passed first.
  std::optional<Response> ReadResponse(std::chrono::milliseconds timeout = 10s, bool head = false) {
    auto deadline = SteadyClock::now() + timeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    Response r;
    std::string head_text = buffer_.substr(0, end);
    size_t eol = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, eol);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = eol == std::string::npos ? head_text.size() : eol + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next + 2;
    }
    size_t length = 0;
    if (!head && r.headers.count("content-length")) length = std::stoul(r.headers["content-length"]);
    while (buffer_.size() < end + 4 + length) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    r.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) before
  // `timeout`; whatever arrives meanwhile is kept in buffer().
  bool WaitForClose(std::chrono::milliseconds timeout) {
    auto deadline = SteadyClock::now() + timeout;
    while (ReadMore(deadline)) {
    }
    return eof_;
  }

  const std::string& buffer() const { return buffer_; }
  bool timed_out() const { return timed_out_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  bool timed_out_ = false;
  std::string buffer_;
};

// Polls `done` every 10 ms until it holds or `timeout` passes.
template <class F>
bool Eventually(F done, std::chrono::milliseconds timeout = 10s) {
  auto deadline = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void TearDown() override { StopServer(); }

  // Starts the server on 127.0.0.1:0 with `options` and the test handler.
  void StartServer(AdminServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    auto started = AdminServer::Start(io_, std::move(options), [this](const AdminRequest& r) { return Handle(r); });
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started.value());
    thread_ = std::thread([this] { io_.run(); });
  }

  void StopServer() {
    if (server_) server_->Stop();
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  AdminResponse Handle(const AdminRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(r);
    }
    AdminResponse out;
    if (r.path == "/hello" || r.path == "/healthz") {
      out.body = "hello world\n";
      out.headers.emplace_back("X-Test", "yes");
    } else if (r.path == "/json") {
      out.content_type = "application/json";
      out.body = "{\"ok\":true}";
    } else if (r.path == "/throw") {
      throw std::runtime_error("handler failed on purpose");
    } else {
      out.status = 404;
      out.body = "no such page: " + r.path + "\n";
    }
    return out;
  }

  std::vector<AdminRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  uint16_t port() const { return server_->port(); }
  RawHttpResponse Get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return RawHttp(port(), {.method = "GET", .target = target, .headers = std::move(headers)}, 10s);
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<AdminRequest> seen_;
};

TEST_F(AdminServerTest, ServesTheHandlersResponse) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port()));
  RawHttpResponse r = Get("/hello?a=1&b=2");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world\n");
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.Header("Content-Length"), "12");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  EXPECT_EQ(r.Header("X-Test"), "yes");

  RawHttpResponse j = Get("/json");
  ASSERT_TRUE(j.ok()) << j.Describe();
  EXPECT_EQ(j.Header("Content-Type"), "application/json");
  EXPECT_EQ(j.body, "{\"ok\":true}");

  auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/hello?a=1&b=2");
  EXPECT_EQ(requests[0].path, "/hello");
  EXPECT_EQ(requests[0].query, "a=1&b=2");
  EXPECT_EQ(requests[1].query, "");
}

TEST_F(AdminServerTest, HeadHasTheHeadersAndNoBody) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(c.WaitForClose(10s)) << c.buffer();
  const std::string& raw = c.buffer();
  size_t end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << raw;
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(raw.find("Content-Length: 12\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("X-Test: yes\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.size(), end + 4) << "a body after HEAD: " << raw;
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen()[0].method, "HEAD");
}

TEST_F(AdminServerTest, OtherMethodsGet405WithAllow) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "BREW"}) {
    SCOPED_TRACE(method);
    RawHttpResponse r = RawHttp(port(), {.method = method, .target = "/hello", .body = "x"}, 10s);
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.Header("Allow"), "GET, HEAD");
  }
  EXPECT_TRUE(seen().empty());
  EXPECT_EQ(server_->stats().bad_requests, 5u);
}

TEST_F(AdminServerTest, HandlerStatusPassesThrough) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RawHttpResponse r = Get("/nope");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such page: /nope\n");
  EXPECT_EQ(server_->stats().bad_requests, 0u);
}

TEST_F(AdminServerTest, OversizedRequestsGet413) {
  AdminServerOptions options;
  options.max_request_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  // Just under the limit: fine.
  RawHttpResponse small = Get("/hello", {{"X-Pad", std::string(600, 'a')}});
  ASSERT_TRUE(small.ok()) << small.Describe();
  EXPECT_EQ(small.status, 200);
  // Headers over the limit.
  RawHttpResponse big = Get("/hello", {{"X-Pad", std::string(2000, 'a')}});
  ASSERT_TRUE(big.ok()) << big.Describe();
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Header("Connection"), "close");
  // A body over what is left of the limit (declared, then sent).
  RawHttpResponse body = RawHttp(port(), {.method = "GET", .target = "/hello", .body = std::string(5000, 'b')}, 10s);
  ASSERT_TRUE(body.ok()) << body.Describe();
  EXPECT_EQ(body.status, 413);
  // Header and body each under the limit, together over it.
  RawHttpResponse both = RawHttp(
      port(), {.method = "GET", .target = "/hello", .headers = {{"X-Pad", std::string(600, 'a')}}, .body = std::string(600, 'b')},
      10s);
  ASSERT_TRUE(both.ok()) << both.Describe();
  EXPECT_EQ(both.status, 413);
  // A chunked body that grows past the limit.
  Client c(port());
  ASSERT_TRUE(c.connected());
  std::string chunked = "GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) chunked += "100\r\n" + std::string(256, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(c.Send(chunked));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.WaitForClose(10s));

  EXPECT_EQ(seen().size(), 1u);
  EXPECT_EQ(server_->stats().bad_requests, 4u);
}

TEST_F(AdminServerTest, GarbageGets400AndTheConnectionCloses) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (std::string garbage : {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("GET /x HTTP/9.9\r\n\r\n"),
                              std::string("GET /x HTTP/1.1\r\nBad Header\r\n\r\n"),
                              std::string("GET /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n")}) {
    SCOPED_TRACE(garbage);
    Client c(port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(garbage));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r.has_value()) << c.buffer();
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(c.WaitForClose(10s));
  }
  EXPECT_TRUE(seen().empty());
  EXPECT_EQ(server_->stats().bad_requests, 4u);
}

TEST_F(AdminServerTest, ReadTimeoutClosesSilentAndSlowConnections) {
  AdminServerOptions options;
  options.read_timeout = 200ms;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));

  Client silent(port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.WaitForClose(10s)) << "a silent connection stayed open";
  EXPECT_TRUE(silent.buffer().empty()) << silent.buffer();

  // Slow loris: a header line every 20 ms never makes a whole request in
  // time; the deadline covers the request, not each read.
  Client slow(port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  auto deadline = SteadyClock::now() + 10s;
  bool closed = false;
  for (int i = 0; SteadyClock::now() < deadline; ++i) {
    if (!slow.Send("X-Drip-" + std::to_string(i) + ": 1\r\n")) {
      closed = true;
      break;
    }
    if (!slow.ReadMore(SteadyClock::now() + 20ms) && !slow.timed_out()) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed) << "a slow client kept the connection for 10 s";
  EXPECT_TRUE(seen().empty());
  EXPECT_TRUE(Eventually([&] { return server_->stats().timeouts == 2; })) << server_->stats().timeouts;

  // A prompt client on the same server is served.
  RawHttpResponse r = Get("/hello");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.status, 200);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = c.ReadResponse();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "hello world\n");
  EXPECT_EQ(first->headers.count("connection"), 0u);  // HTTP/1.1: keep-alive by default

  ASSERT_TRUE(c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto second = c.ReadResponse();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 404);

  // Pipelined: three requests in one write, answered in order; a HEAD in
  // the middle has no body, so the third response parses cleanly.
  ASSERT_TRUE(c.Send(
      "GET /json HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p1 = c.ReadResponse();
  auto p2 = c.ReadResponse(10s, /*head=*/true);
  auto p3 = c.ReadResponse();
  ASSERT_TRUE(p1 && p2 && p3);
  EXPECT_EQ(p1->body, "{\"ok\":true}");
  EXPECT_EQ(p2->headers["content-length"], "12");
  EXPECT_EQ(p3->body, "hello world\n");

  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 5u);

  // HTTP/1.0 without keep-alive: one response, then the server closes.
  Client old(port());
  ASSERT_TRUE(old.connected());
  ASSERT_TRUE(old.Send("GET /hello HTTP/1.0\r\n\r\n"));
  auto r = old.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(old.WaitForClose(10s));
}

TEST_F(AdminServerTest, IdleKeepAliveConnectionsClose) {
  AdminServerOptions options;
  options.idle_timeout = 200ms;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse().has_value());
  EXPECT_TRUE(c.WaitForClose(10s)) << "an idle keep-alive connection stayed open";
  EXPECT_EQ(server_->stats().timeouts, 0u);  // an idle close is normal
}

TEST_F(AdminServerTest, ConnectionsOverMaxAreClosedAtOnce) {
  AdminServerOptions options;
  options.max_connections = 2;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  auto a = std::make_unique<Client>(port());
  Client b(port());
  ASSERT_TRUE(a->connected() && b.connected());
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections_accepted == 2; }));

  Client extra(port());
  ASSERT_TRUE(extra.connected());  // the kernel accepts; the server closes it
  EXPECT_TRUE(extra.WaitForClose(10s));
  EXPECT_TRUE(extra.buffer().empty());
  EXPECT_EQ(server_->stats().connections_rejected, 1u);

  // The two open ones still work.
  ASSERT_TRUE(b.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = b.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);

  // Once one closes, a new connection is served again.
  a.reset();
  EXPECT_TRUE(Eventually([&] {
    RawHttpResponse g = RawHttp(port(), {.target = "/hello"}, 5s);
    return g.ok() && g.status == 200;
  }));
}

TEST_F(AdminServerTest, BearerTokenGuardsAllButOpenPaths) {
  AdminServerOptions options;
  options.bearer_token = "s3cret-T0ken";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));

  RawHttpResponse none = Get("/hello");
  ASSERT_TRUE(none.ok()) << none.Describe();
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("WWW-Authenticate"), "Bearer");

  for (const char* wrong : {"Bearer s3cret-T0ke", "Bearer s3cret-T0kenX", "Bearer S3CRET-T0KEN", "Basic s3cret-T0ken",
                            "s3cret-T0ken", "Bearer", "Bearer "}) {
    SCOPED_TRACE(wrong);
    RawHttpResponse r = Get("/hello", {{"Authorization", wrong}});
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.status, 401);
  }
  EXPECT_TRUE(seen().empty());

  for (const char* right : {"Bearer s3cret-T0ken", "bearer s3cret-T0ken", "Bearer   s3cret-T0ken  "}) {
    SCOPED_TRACE(right);
    RawHttpResponse r = Get("/hello", {{"Authorization", right}});
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.status, 200);
  }
  // Probes need no token; a path that merely starts like one does.
  RawHttpResponse probe = Get("/healthz");
  ASSERT_TRUE(probe.ok()) << probe.Describe();
  EXPECT_EQ(probe.status, 200);
  RawHttpResponse query = Get("/healthz?verbose=1");
  EXPECT_EQ(query.status, 200);
  EXPECT_EQ(Get("/healthz/../hello").status, 401);
  EXPECT_EQ(Get("/readyz").status, 404);  // open, and the handler has no such page

  AdminServer::Stats s = server_->stats();
  EXPECT_EQ(s.unauthorized, 9u);
  EXPECT_EQ(seen().size(), 6u);
}

TEST_F(AdminServerTest, HandlerExceptionGives500AndServingGoesOn) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("on purpose"), std::string::npos);  // no internals to the client
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto after = c.ReadResponse();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, 200);
}

TEST_F(AdminServerTest, StopClosesTheListenerAndOpenConnections) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const uint16_t p = port();
  Client kept(p);
  ASSERT_TRUE(kept.connected());
  ASSERT_TRUE(kept.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(kept.ReadResponse().has_value());
  Client idle(p);  // connected, never sent a byte
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections_accepted == 2; }));

  server_->Stop();  // from this thread: done on the io_context
  EXPECT_TRUE(kept.WaitForClose(10s)) << "a keep-alive connection outlived Stop()";
  EXPECT_TRUE(idle.WaitForClose(10s)) << "an idle connection outlived Stop()";
  EXPECT_TRUE(Eventually([&] { return RawHttp(p, {.target = "/hello"}, 5s).outcome == RawHttpOutcome::kConnectFailed; }));

  // With every connection closed the io_context runs out of work.
  work_.reset();
  thread_.join();
}

TEST_F(AdminServerTest, CountsWhatHappened) {
  AdminServerOptions options;
  options.bearer_token = "t";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  EXPECT_EQ(Get("/hello", {{"Authorization", "Bearer t"}}).status, 200);
  EXPECT_EQ(Get("/hello").status, 401);
  EXPECT_EQ(RawHttp(port(), {.method = "POST", .target = "/hello"}, 10s).status, 405);
  Client c(port());
  ASSERT_TRUE(c.Send("\x01\x02\x03 nonsense\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse().has_value());
  ASSERT_TRUE(Eventually([&] { return server_->stats().bad_requests == 2; }));

  AdminServer::Stats s = server_->stats();
  EXPECT_EQ(s.connections_accepted, 4u);
  EXPECT_EQ(s.connections_rejected, 0u);
  EXPECT_EQ(s.requests, 3u);  // whole requests read: 200, 401 and 405
  EXPECT_EQ(s.unauthorized, 1u);
  EXPECT_EQ(s.bad_requests, 2u);
  EXPECT_EQ(s.timeouts, 0u);
}

// ---------------------------------------------------------------------------
// Start-up errors name the address.

TEST(AdminServerStartTest, UnparsableAddressesAreInvalidArguments) {
  boost::asio::io_context io;
  for (const char* listen : {"nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80x", ":9464",
                             "::1:9464", "[::1:9464", "[::1]9464", "[127.0.0.1]:9464", "example.com:9464",
                             "999.1.1.1:80"}) {
    SCOPED_TRACE(listen);
    auto r = AdminServer::Start(io, {.listen = listen}, [](const AdminRequest&) { return AdminResponse{}; });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("\"") + listen + "\""), std::string::npos)
        << r.status().ToString();
  }
}

TEST(AdminServerStartTest, BusyPortIsUnavailableAndNamed) {
  boost::asio::io_context io;
  auto handler = [](const AdminRequest&) { return AdminResponse{}; };
  auto first = AdminServer::Start(io, {.listen = "127.0.0.1:0"}, handler);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = AdminServer::Start(io, {.listen = address}, handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(address), std::string::npos) << second.status().ToString();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().ToString();
  (*first)->Stop();
  io.run();  // runs the posted close; nothing else is pending
}

TEST(AdminServerStartTest, ListensOnIpv6AndLocalhost) {
  boost::asio::io_context io;
  auto handler = [](const AdminRequest&) { return AdminResponse{}; };
  auto local = AdminServer::Start(io, {.listen = "localhost:0"}, handler);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ((*local)->url(), "http://127.0.0.1:" + std::to_string((*local)->port()));
  (*local)->Stop();

  auto v6 = AdminServer::Start(io, {.listen = "[::1]:0"}, handler);
  if (!v6.ok()) {
    io.run();
    GTEST_SKIP() << "no IPv6 loopback here: " << v6.status().ToString();
  }
  EXPECT_EQ((*v6)->url(), "http://[::1]:" + std::to_string((*v6)->port()));
  (*v6)->Stop();
  io.run();
}

}  // namespace
}  // namespace freshet
