// HttpClient over plain HTTP against the in-process TestHttpServer: round
// trips, keep-alive and the pool, deadlines, faults, shutdown, RunAfter.
#include "storage/http/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "storage/http/http_test_util.h"
#include "storage/http/test_http_server.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;
using testing::Collector;
using testing::Contains;
using testing::MakeClient;
using testing::Request;
using testing::SendSync;
using testing::ServerReply;
using testing::ServerRequest;
using testing::TestHttpServer;
using Mode = ServerReply::Mode;

// Answers with the method, target and body it got.
ServerReply Echo(const ServerRequest& req) {
  ServerReply r;
  r.headers = {{"X-Method", req.method}, {"X-Target", req.target}, {"ETag", "\"e\""}};
  r.body = req.method == "DELETE" ? "" : "got:" + req.body;
  if (req.method == "DELETE") r.status = 204;
  return r;
}

ServerReply Fixed(std::string body, Mode mode = Mode::kNormal) {
  ServerReply r;
  r.body = std::move(body);
  r.mode = mode;
  return r;
}

TEST(HttpClientTest, RoundTripsGetPutHeadDelete) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(client);

  Result<HttpResponse> put = SendSync(*client, server.endpoint(), Request("PUT", "/bucket/key%20a?x=1", "hello"));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->status, 200);
  EXPECT_EQ(put->reason, "OK");
  EXPECT_EQ(put->body, "got:hello");
  EXPECT_EQ(put->Header("x-method").value_or(""), "PUT");
  EXPECT_EQ(put->Header("X-Target").value_or(""), "/bucket/key%20a?x=1");

  HttpRequest get = Request("GET", "/bucket/key");
  get.headers = {{"Range", "bytes=0-3"}, {"X-Amz-Date", "20240101T000000Z"}};
  Result<HttpResponse> got = SendSync(*client, server.endpoint(), get);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "got:");

  Result<HttpResponse> head = SendSync(*client, server.endpoint(), Request("HEAD", "/bucket/key"));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->Header("Content-Length").value_or(""), "4");  // what a GET would get

  Result<HttpResponse> del = SendSync(*client, server.endpoint(), Request("DELETE", "/bucket/key"));
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->status, 204);

  std::vector<ServerRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].body, "hello");
  EXPECT_EQ(seen[0].Header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].Header("Content-Length"), "5");
  EXPECT_EQ(seen[1].Header("Range"), "bytes=0-3");
  EXPECT_EQ(seen[1].Header("X-Amz-Date"), "20240101T000000Z");
  EXPECT_EQ(seen[1].Header("Content-Length"), "");  // none on a body-less GET
  EXPECT_EQ(seen[2].method, "HEAD");
  EXPECT_EQ(seen[3].method, "DELETE");

  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.requests, 4u);
  EXPECT_EQ(s.responses, 4u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(s.bytes_sent, 5u);
  EXPECT_EQ(s.bytes_received, 9u + 4u);
}

TEST(HttpClientTest, NonSuccessStatusIsAResponse) {
  TestHttpServer server([](const ServerRequest&) {
    ServerReply r;
    r.status = 503;
    r.body = "<Error><Code>SlowDown</Code></Error>";
    return r;
  });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(Contains(r->body, "SlowDown"));
}

TEST(HttpClientTest, EmptyPutSendsContentLengthZeroAndCallerHostWins) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  HttpRequest put = Request("PUT", "/k");
  put.headers = {{"host", "bucket.example"}};
  ASSERT_TRUE(SendSync(*client, server.endpoint(), put).ok());
  std::vector<ServerRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("Content-Length"), "0");
  EXPECT_EQ(seen[0].Header("Host"), "bucket.example");
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  for (int i = 0; i < 20; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/k" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.connections_opened, 1u);
  EXPECT_EQ(s.connections_reused, 19u);
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(HttpClientTest, PoolBoundsConnectionsAndQueuesTheRest) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.delay = 30ms;
    return r;
  });
  HttpClient::Options options;
  options.max_connections_per_endpoint = 2;
  auto client = MakeClient(options);
  constexpr size_t kCalls = 10;
  Collector results(kCalls);
  for (size_t i = 0; i < kCalls; ++i) {
    client->Send(server.endpoint(), Request("GET", "/slow/" + std::to_string(i)), results.Callback(i));
  }
  ASSERT_TRUE(results.WaitAll());
  for (size_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results.result(i).ok()) << results.result(i).status().ToString();
    EXPECT_EQ(results.result(i)->Header("X-Target").value_or(""), "/slow/" + std::to_string(i));
    EXPECT_EQ(results.calls(i), 1);
  }
  EXPECT_LE(server.max_open_connections(), 2);
  EXPECT_EQ(server.connections_accepted(), 2u);
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.connections_opened, 2u);
  EXPECT_EQ(s.connections_reused, 8u);
}

TEST(HttpClientTest, QueueServedInFifoOrder) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    if (req.target == "/first") r.delay = 50ms;
    return r;
  });
  HttpClient::Options options;
  options.max_connections_per_endpoint = 1;
  auto client = MakeClient(options);
  constexpr size_t kCalls = 6;
  Collector results(kCalls);
  client->Send(server.endpoint(), Request("GET", "/first"), results.Callback(0));
  for (size_t i = 1; i < kCalls; ++i) {
    client->Send(server.endpoint(), Request("GET", "/q/" + std::to_string(i)), results.Callback(i));
  }
  ASSERT_TRUE(results.WaitAll());
  std::vector<ServerRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), kCalls);
  EXPECT_EQ(seen[0].target, "/first");
  for (size_t i = 1; i < kCalls; ++i) EXPECT_EQ(seen[i].target, "/q/" + std::to_string(i));
}

TEST(HttpClientTest, FullQueueRefusesAtOnce) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.delay = 100ms;
    return r;
  });
  HttpClient::Options options;
  options.max_connections_per_endpoint = 1;
  options.max_queued_requests = 1;
  auto client = MakeClient(options);
  Collector results(3);
  for (size_t i = 0; i < 3; ++i) client->Send(server.endpoint(), Request("GET", "/q"), results.Callback(i));
  ASSERT_TRUE(results.WaitAll());
  EXPECT_TRUE(results.result(0).ok());
  EXPECT_TRUE(results.result(1).ok());
  ASSERT_FALSE(results.result(2).ok());
  EXPECT_EQ(results.result(2).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(results.result(2).status().message(), "queue full")) << results.result(2).status().message();
}

TEST(HttpClientTest, QueuedRequestsDeadlineKeepsRunning) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    if (req.target == "/hog") r.delay = 1s;
    return r;
  });
  HttpClient::Options options;
  options.max_connections_per_endpoint = 1;
  auto client = MakeClient(options);
  Collector results(2);
  client->Send(server.endpoint(), Request("GET", "/hog"), results.Callback(0));
  HttpRequest waiting = Request("GET", "/waiting");
  waiting.timeout = 100ms;
  client->Send(server.endpoint(), waiting, results.Callback(1));
  ASSERT_TRUE(results.WaitAll());
  EXPECT_TRUE(results.result(0).ok());
  ASSERT_FALSE(results.result(1).ok());
  EXPECT_EQ(results.result(1).status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(Contains(results.result(1).status().message(), "waiting for a pooled connection"))
      << results.result(1).status().message();
  // The hog's connection survives the waiter's timeout: one connection.
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(HttpClientTest, IdleTimeoutClosesPooledConnection) {
  TestHttpServer server(Echo);
  HttpClient::Options options;
  options.idle_timeout = 100ms;
  auto client = MakeClient(options);
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/a")).ok());
  // The client closes the idle connection; the server sees it go.
  ASSERT_TRUE(server.WaitForOpenConnections(0));
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/b")).ok());
  EXPECT_EQ(client->stats().connections_opened, 2u);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(HttpClientTest, ServerClosingIdleConnectionIsTransparent) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.close_after = true;  // no "Connection: close": the client pools it
    return r;
  });
  auto client = MakeClient();
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/k"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(server.WaitForOpenConnections(0));
  }
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.connections_opened, 3u);
  EXPECT_EQ(s.failures, 0u);
}

TEST(HttpClientTest, StaleConnectionRetriedOnceOnAFreshOne) {
  // The second request on the first connection is dropped unanswered, as
  // a server does when it closes a keep-alive connection under us.
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    if (req.connection == 1 && req.index_on_connection == 2) r.mode = Mode::kCloseWithoutResponse;
    return r;
  });
  auto client = MakeClient();
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/one")).ok());
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("PUT", "/two", "body"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "got:body");
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.stale_reconnects, 1u);
  EXPECT_EQ(s.connections_opened, 2u);
  EXPECT_EQ(s.failures, 0u);
}

TEST(HttpClientTest, StaleRetryHappensOnlyOnce) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    if (req.target != "/warm") r.mode = Mode::kCloseWithoutResponse;
    return r;
  });
  auto client = MakeClient();
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/warm")).ok());
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/dropped"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client->stats().stale_reconnects, 1u);
  EXPECT_EQ(server.requests().size(), 3u);  // warm, dropped twice

  // On a fresh connection the same failure is not retried.
  auto fresh = MakeClient();
  Result<HttpResponse> f = SendSync(*fresh, server.endpoint(), Request("GET", "/dropped"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(f.status().message(), "closed before a response")) << f.status().message();
  EXPECT_EQ(fresh->stats().stale_reconnects, 0u);
}

TEST(HttpClientTest, ConnectionCloseResponseIsNotReused) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.connection_close = true;
    return r;
  });
  auto client = MakeClient();
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/a")).ok());
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/b")).ok());
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.connections_opened, 2u);
  EXPECT_EQ(s.connections_reused, 0u);
  EXPECT_EQ(s.stale_reconnects, 0u);
}

TEST(HttpClientTest, Http10ResponseIsNotReused) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.http10 = true;
    return r;
  });
  auto client = MakeClient();
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/old"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "got:");
  }
  EXPECT_EQ(client->stats().connections_opened, 2u);
  EXPECT_EQ(client->stats().connections_reused, 0u);
}

TEST(HttpClientTest, BodyDelimitedByEofIsComplete) {
  TestHttpServer server([](const ServerRequest&) { return Fixed("until the end", Mode::kNoLength); });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "until the end");
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/")).ok());
  EXPECT_EQ(client->stats().connections_opened, 2u);
}

TEST(HttpClientTest, ChunkedBody) {
  std::string body;
  for (int i = 0; i < 100; ++i) body += "chunk" + std::to_string(i) + ";";
  TestHttpServer server([body](const ServerRequest&) { return Fixed(body, Mode::kChunked); });
  auto client = MakeClient();
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, body);
  }
  EXPECT_EQ(client->stats().connections_opened, 1u);
}

TEST(HttpClientTest, TruncatedBodyIsUnavailable) {
  TestHttpServer server([](const ServerRequest&) { return Fixed("0123456789", Mode::kHalfBody); });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), "truncated body (got 5 of 10 bytes)")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "GET http://127.0.0.1:")) << r.status().message();
  EXPECT_EQ(client->stats().stale_reconnects, 0u);
}

TEST(HttpClientTest, HeaderWithoutBodyIsUnavailable) {
  TestHttpServer server([](const ServerRequest&) { return Fixed("0123456789", Mode::kHeaderThenClose); });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), "truncated body (got 0 of 10 bytes)")) << r.status().message();
}

TEST(HttpClientTest, UnterminatedChunkedBodyIsUnavailable) {
  TestHttpServer server([](const ServerRequest&) { return Fixed("abcdefghijklmnopqrstuvwxyz", Mode::kUnterminatedChunks); });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), "truncated chunked body")) << r.status().message();
}

TEST(HttpClientTest, ResetMidBodyIsUnavailable) {
  TestHttpServer server([](const ServerRequest&) { return Fixed(std::string(100000, 'x'), Mode::kResetMidBody); });
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST(HttpClientTest, BodyOverLimitIsDataLoss) {
  TestHttpServer server([](const ServerRequest& req) {
    return Fixed(std::string(1000, 'x'), req.target == "/chunked" ? Mode::kChunked : Mode::kNormal);
  });
  HttpClient::Options options;
  options.max_body_bytes = 100;
  auto client = MakeClient(options);
  for (const char* target : {"/length", "/chunked"}) {
    SCOPED_TRACE(target);
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", target));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  }
  // A HEAD's Content-Length is no body: not over the limit.
  Result<HttpResponse> head = SendSync(*client, server.endpoint(), Request("HEAD", "/length"));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->Header("Content-Length").value_or(""), "1000");
}

TEST(HttpClientTest, RequestTimeoutWhenServerStalls) {
  TestHttpServer server([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    if (req.target.starts_with("/stall")) r.mode = Mode::kStall;
    return r;
  });
  HttpClient::Options options;
  options.request_timeout = 200ms;
  auto client = MakeClient(options);
  HttpRequest req = Request("GET", "/stall?X-Amz-Signature=secret");
  req.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET"}};
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  const std::string& m = r.status().message();
  EXPECT_TRUE(Contains(m, "GET " + server.endpoint().ToString() + "/stall")) << m;
  EXPECT_TRUE(Contains(m, "read")) << m;
  EXPECT_FALSE(Contains(m, "AKIDSECRET")) << m;
  EXPECT_FALSE(Contains(m, "secret")) << m;
  EXPECT_EQ(client->stats().timeouts, 1u);

  // A per-request timeout overrides the option; the client still works.
  HttpRequest longer = Request("GET", "/fine");
  longer.timeout = 10s;
  EXPECT_TRUE(SendSync(*client, server.endpoint(), longer).ok());
  HttpRequest shorter = Request("GET", "/stall");
  shorter.timeout = 50ms;
  Result<HttpResponse> s = SendSync(*client, server.endpoint(), shorter);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(Contains(s.status().message(), "50 ms")) << s.status().message();
}

TEST(HttpClientTest, WriteTimeoutWhenServerDoesNotRead) {
  TestHttpServer::Options server_options;
  server_options.silent = true;  // accepts, never reads: socket buffers fill up
  TestHttpServer server(server_options, Echo);
  HttpClient::Options options;
  options.request_timeout = 300ms;
  auto client = MakeClient(options);
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("PUT", "/big", std::string(32 << 20, 'x')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "write timed out (request timeout 300 ms)")) << r.status().message();
  EXPECT_EQ(client->stats().bytes_sent, 0u);
}

TEST(HttpClientTest, PoolsAreSeparatePerEndpoint) {
  TestHttpServer slow([](const ServerRequest& req) {
    ServerReply r = Echo(req);
    r.mode = Mode::kStall;
    return r;
  });
  TestHttpServer fast(Echo);
  HttpClient::Options options;
  options.max_connections_per_endpoint = 1;
  auto client = MakeClient(options);
  HttpRequest stalled = Request("GET", "/stall");
  stalled.timeout = 10s;
  testing::Collector results(1);
  client->Send(slow.endpoint(), stalled, results.Callback(0));
  ASSERT_TRUE(slow.WaitForRequests(1));
  // The slow endpoint's only connection is busy; another endpoint is not
  // held up by it.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(SendSync(*client, fast.endpoint(), Request("GET", "/")).ok());
  client.reset();
  ASSERT_TRUE(results.WaitAll(0ms));
  EXPECT_EQ(results.result(0).status().code(), StatusCode::kCancelled);
}

TEST(HttpClientTest, ConnectTimeoutWhenListenBacklogIsFull) {
  // A listening socket that never accepts, with its backlog filled: the
  // kernel drops further SYNs, so the client's connect hangs.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(c, 0);
    (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(c);
  }
  HttpClient::Options options;
  options.connect_timeout = 200ms;
  auto client = MakeClient(options);
  HttpEndpoint endpoint{false, "127.0.0.1", ntohs(addr.sin_port)};
  Result<HttpResponse> r = SendSync(*client, endpoint, Request("GET", "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "connect timed out (connect_timeout 200 ms)")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), endpoint.ToString())) << r.status().message();
  EXPECT_EQ(client->stats().connections_opened, 0u);
  for (int c : fillers) ::close(c);
  ::close(fd);
}

TEST(HttpClientTest, ConnectRefusedIsUnavailable) {
  // A bound socket that does not listen: connecting to it is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, HttpEndpoint{false, "127.0.0.1", ntohs(addr.sin_port)}, Request("GET", "/"));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), "connect failed")) << r.status().message();
}

TEST(HttpClientTest, MalformedRequestsAreRefusedInline) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  struct Case {
    const char* name;
    HttpRequest req;
  };
  std::vector<Case> cases;
  cases.push_back({"method with space", Request("GE T", "/")});
  cases.push_back({"empty method", Request("", "/")});
  cases.push_back({"absolute target", Request("GET", "http://x/")});
  cases.push_back({"target with space", Request("GET", "/a b")});
  HttpRequest crlf = Request("GET", "/");
  crlf.headers = {{"X-Evil", "SECRETVALUE\r\nInjected: 1"}};
  cases.push_back({"CRLF in header value", crlf});
  HttpRequest bad_name = Request("GET", "/");
  bad_name.headers = {{"Bad Name", "v"}};
  cases.push_back({"header name", bad_name});
  HttpRequest length = Request("PUT", "/", "abc");
  length.headers = {{"Content-Length", "4"}};
  cases.push_back({"length mismatch", length});
  HttpRequest te = Request("PUT", "/", "abc");
  te.headers = {{"Transfer-Encoding", "chunked"}};
  cases.push_back({"transfer-encoding", te});
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<Result<HttpResponse>> got;
    std::thread::id caller = std::this_thread::get_id();
    std::thread::id ran_on;
    client->Send(server.endpoint(), c.req, [&](Result<HttpResponse> r) {
      got.emplace(std::move(r));
      ran_on = std::this_thread::get_id();
    });
    ASSERT_TRUE(got.has_value());  // inline
    EXPECT_EQ(ran_on, caller);
    ASSERT_FALSE(got->ok());
    EXPECT_EQ(got->status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(Contains(got->status().message(), "SECRETVALUE")) << got->status().message();
  }
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/")).ok());
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(client->stats().failures, cases.size());

  Result<HttpResponse> no_host = SendSync(*client, HttpEndpoint{false, "", 80}, Request("GET", "/"));
  EXPECT_EQ(no_host.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, CreateRejectsBadOptions) {
  HttpClient::Options pool;
  pool.max_connections_per_endpoint = 0;
  EXPECT_EQ(HttpClient::Create(pool).status().code(), StatusCode::kInvalidArgument);
  HttpClient::Options ca;
  ca.ca_file = "/nonexistent/ca.pem";
  Result<std::unique_ptr<HttpClient>> c = HttpClient::Create(ca);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(c.status().message(), "/nonexistent/ca.pem")) << c.status().message();
}

TEST(HttpClientTest, ConcurrentSendsFromSeveralThreads) {
  TestHttpServer server(Echo);
  HttpClient::Options options;
  options.max_connections_per_endpoint = 3;
  auto client = MakeClient(options);
  constexpr size_t kThreads = 4;
  constexpr size_t kPerThread = 25;
  Collector results(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < kPerThread; ++i) {
        size_t n = t * kPerThread + i;
        client->Send(server.endpoint(), Request("PUT", "/c/" + std::to_string(n), std::to_string(n)),
                     results.Callback(n));
        (void)client->stats();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(results.WaitAll());
  for (size_t n = 0; n < kThreads * kPerThread; ++n) {
    ASSERT_TRUE(results.result(n).ok()) << results.result(n).status().ToString();
    EXPECT_EQ(results.result(n)->body, "got:" + std::to_string(n));
  }
  // Every callback ran on the client's private loop's one thread.
  std::vector<std::thread::id> ids = results.threads();
  for (auto id : ids) EXPECT_EQ(id, ids.front());
  EXPECT_LE(server.max_open_connections(), 3);
  HttpClient::Stats s = client->stats();
  EXPECT_EQ(s.requests, kThreads * kPerThread);
  EXPECT_EQ(s.responses, kThreads * kPerThread);
}

TEST(HttpClientTest, CallbackMaySendAgain) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  std::promise<int> finished;
  std::atomic<int> count{0};
  std::function<void(Result<HttpResponse>)> next = [&](Result<HttpResponse> r) {
    if (!r.ok() || ++count == 5) {
      finished.set_value(count.load());
      return;
    }
    client->Send(server.endpoint(), Request("GET", "/again"), next);
  };
  client->Send(server.endpoint(), Request("GET", "/again"), next);
  EXPECT_EQ(finished.get_future().get(), 5);
}

TEST(HttpClientTest, DestructorCancelsInFlightAndQueuedCalls) {
  TestHttpServer server([](const ServerRequest&) {
    ServerReply r;
    r.mode = Mode::kStall;
    return r;
  });
  HttpClient::Options options;
  options.max_connections_per_endpoint = 2;
  auto client = MakeClient(options);
  constexpr size_t kCalls = 5;  // 2 on the wire, 3 queued
  Collector results(kCalls);
  for (size_t i = 0; i < kCalls; ++i) client->Send(server.endpoint(), Request("GET", "/stall"), results.Callback(i));
  ASSERT_TRUE(server.WaitForRequests(2));
  client.reset();
  ASSERT_TRUE(results.WaitAll(0ms));  // all done once the destructor returns
  for (size_t i = 0; i < kCalls; ++i) {
    EXPECT_EQ(results.calls(i), 1);
    ASSERT_FALSE(results.result(i).ok());
    EXPECT_EQ(results.result(i).status().code(), StatusCode::kCancelled) << results.result(i).status().ToString();
  }
}

TEST(HttpClientTest, DestructorWithIdlePooledConnections) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  ASSERT_TRUE(SendSync(*client, server.endpoint(), Request("GET", "/")).ok());
  client.reset();
  EXPECT_TRUE(server.WaitForOpenConnections(0));
}

// The daemon's way: clients on a shared loop of several threads (the
// actors' loop). Every callback runs on a loop thread; each client's calls
// stay serial on its strand while the loop's threads serve both.
TEST(HttpClientTest, ClientsShareTheDaemonsLoop) {
  TestHttpServer server(Echo);
  IoLoop loop(2);
  HttpClient::Options options;
  options.max_connections_per_endpoint = 2;
  auto a = HttpClient::Create(options, &loop);
  auto b = HttpClient::Create(options, &loop);
  ASSERT_TRUE(a.ok() && b.ok());
  constexpr size_t kPerClient = 40;
  Collector results(2 * kPerClient);
  std::atomic<int> off_loop{0};
  for (size_t i = 0; i < kPerClient; ++i) {
    for (size_t c = 0; c < 2; ++c) {
      size_t n = c * kPerClient + i;
      HttpCallback record = results.Callback(n);
      (c == 0 ? *a : *b)->Send(server.endpoint(), Request("PUT", "/s/" + std::to_string(n), std::to_string(n)),
                               [&, record](Result<HttpResponse> r) {
                                 if (!loop.InLoopThread()) off_loop++;
                                 record(std::move(r));
                               });
    }
  }
  ASSERT_TRUE(results.WaitAll());
  for (size_t n = 0; n < 2 * kPerClient; ++n) {
    ASSERT_TRUE(results.result(n).ok()) << results.result(n).status().ToString();
    EXPECT_EQ(results.result(n)->body, "got:" + std::to_string(n));
  }
  EXPECT_EQ(off_loop.load(), 0);
  EXPECT_LE(server.max_open_connections(), 4);
  a->reset();
  b->reset();
  EXPECT_TRUE(server.WaitForOpenConnections(0));  // closed, though the loop runs on
  EXPECT_TRUE(loop.running());
}

// Destroyed while the shared loop runs: the calls in flight complete with
// kCancelled on the loop, and the destructor returns after the last one.
// The loop and another client on it carry on.
TEST(HttpClientTest, DestroyedOnARunningSharedLoopCancelsAndWaits) {
  TestHttpServer stall([](const ServerRequest&) {
    ServerReply r;
    r.mode = Mode::kStall;
    return r;
  });
  TestHttpServer echo(Echo);
  IoLoop loop(2);
  HttpClient::Options options;
  options.max_connections_per_endpoint = 1;
  auto client = HttpClient::Create(options, &loop);
  auto other = HttpClient::Create(options, &loop);
  ASSERT_TRUE(client.ok() && other.ok());
  constexpr size_t kCalls = 3;  // 1 on the wire, 2 queued
  Collector results(kCalls);
  for (size_t i = 0; i < kCalls; ++i) (*client)->Send(stall.endpoint(), Request("GET", "/"), results.Callback(i));
  ASSERT_TRUE(stall.WaitForRequests(1));
  client->reset();
  ASSERT_TRUE(results.WaitAll(0ms));
  for (size_t i = 0; i < kCalls; ++i) {
    EXPECT_EQ(results.calls(i), 1);
    EXPECT_EQ(results.result(i).status().code(), StatusCode::kCancelled) << results.result(i).status().ToString();
  }
  Result<HttpResponse> still = SendSync(**other, echo.endpoint(), Request("GET", "/after"));
  ASSERT_TRUE(still.ok()) << still.status().ToString();
}

// Destroyed after the daemon stopped its loop (the daemon's exit): nothing
// runs the strand any more, so the destructor completes the calls itself,
// each exactly once, and returns without waiting for the loop.
TEST(HttpClientTest, DestroyedAfterTheSharedLoopStoppedCancelsInline) {
  TestHttpServer server([](const ServerRequest&) {
    ServerReply r;
    r.mode = Mode::kStall;
    return r;
  });
  auto token = std::make_shared<int>(0);
  {
    IoLoop loop(2);
    HttpClient::Options options;
    options.max_connections_per_endpoint = 1;
    auto client = HttpClient::Create(options, &loop);
    ASSERT_TRUE(client.ok());
    constexpr size_t kCalls = 3;
    Collector results(kCalls);
    for (size_t i = 0; i < kCalls; ++i) (*client)->Send(server.endpoint(), Request("GET", "/"), results.Callback(i));
    ASSERT_TRUE(server.WaitForRequests(1));
    (*client)->RunAfter(std::chrono::hours(1), [token] {});
    loop.Stop();
    // Sent after the stop: queued on a loop nobody runs.
    Collector late(1);
    (*client)->Send(server.endpoint(), Request("GET", "/late"), late.Callback(0));
    client->reset();
    ASSERT_TRUE(results.WaitAll(0ms));
    ASSERT_TRUE(late.WaitAll(0ms));
    for (size_t i = 0; i < kCalls; ++i) {
      EXPECT_EQ(results.calls(i), 1);
      EXPECT_EQ(results.result(i).status().code(), StatusCode::kCancelled);
      EXPECT_EQ(results.threads()[i], std::this_thread::get_id());
    }
    EXPECT_EQ(late.result(0).status().code(), StatusCode::kCancelled);
  }
  EXPECT_EQ(token.use_count(), 1);  // the dropped RunAfter closure went with the loop
}

TEST(HttpClientTest, RunAfterRunsInDeadlineOrderOnTheIoThread) {
  TestHttpServer server(Echo);
  auto client = MakeClient();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  std::promise<void> all;
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(n);
      threads.push_back(std::this_thread::get_id());
      if (order.size() == 4) all.set_value();
    };
  };
  client->RunAfter(90ms, record(3));
  client->RunAfter(30ms, record(1));
  client->RunAfter(60ms, record(2));
  client->RunAfter(0ms, record(0));
  all.get_future().wait();
  Collector results(1);
  client->Send(server.endpoint(), Request("GET", "/"), results.Callback(0));
  ASSERT_TRUE(results.WaitAll());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  for (auto id : threads) EXPECT_EQ(id, results.threads().front());
}

TEST(HttpClientTest, RunAfterDroppedWhenClientIsDestroyed) {
  auto client = MakeClient();
  auto token = std::make_shared<int>(0);
  std::atomic<bool> ran{false};
  client->RunAfter(std::chrono::hours(1), [&ran, token] { ran = true; });
  client.reset();
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(token.use_count(), 1);  // the closure was destroyed
}

}  // namespace
}  // namespace freshet
