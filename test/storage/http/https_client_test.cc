// HttpClient over TLS against the in-process TestHttpServer with a
// certificate made at test time: verification, CA files, host names,
// keep-alive, truncation and handshake deadlines.
#include <gtest/gtest.h>

#include <fstream>

#include "storage/http/http_client.h"
#include "storage/http/http_test_util.h"
#include "storage/http/test_cert.h"
#include "storage/http/test_http_server.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;
using testing::Contains;
using testing::MakeClient;
using testing::Request;
using testing::SendSync;
using testing::ServerReply;
using testing::ServerRequest;
using testing::TestCert;
using testing::TestHttpServer;
using Mode = ServerReply::Mode;

ServerReply TlsEcho(const ServerRequest& req) {
  ServerReply r;
  r.body = "tls:" + req.body;
  return r;
}

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = testing::MakeSelfSignedCert();
    ca_file_ = dir_.Join("ca.pem");
    std::ofstream(ca_file_) << cert_.cert_pem;
  }

  TestHttpServer::Options ServerOptions() const {
    TestHttpServer::Options o;
    o.cert_pem = cert_.cert_pem;
    o.key_pem = cert_.key_pem;
    return o;
  }
  HttpClient::Options TrustingOptions() const {
    HttpClient::Options o;
    o.ca_file = ca_file_;
    return o;
  }

  testing::TempDir dir_{"https"};
  TestCert cert_;
  std::string ca_file_;
};

TEST_F(HttpsClientTest, UntrustedCertificateFailsVerificationByDefault) {
  TestHttpServer server(ServerOptions(), TlsEcho);
  auto client = MakeClient();
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "certificate verification failed")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), server.endpoint().ToString())) << r.status().message();
  EXPECT_EQ(client->stats().connections_opened, 0u);
}

TEST_F(HttpsClientTest, CaFileMakesTheCertificateTrusted) {
  TestHttpServer server(ServerOptions(), TlsEcho);
  auto client = MakeClient(TrustingOptions());
  for (int i = 0; i < 5; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("PUT", "/k", "secret payload"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "tls:secret payload");
  }
  // Keep-alive works over TLS too.
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST_F(HttpsClientTest, DnsNameIsVerifiedAgainstSubjectAltName) {
  TestHttpServer server(ServerOptions(), TlsEcho);
  auto client = MakeClient(TrustingOptions());
  HttpEndpoint by_name{true, "localhost", server.port()};
  Result<HttpResponse> r = SendSync(*client, by_name, Request("GET", "/"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(server.requests().at(0).Header("Host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(HttpsClientTest, HostNameMismatchFailsVerification) {
  TestCert other = testing::MakeSelfSignedCert("DNS:bucket.example.test");
  std::string other_ca = dir_.Join("other.pem");
  std::ofstream(other_ca) << other.cert_pem;
  TestHttpServer::Options server_options;
  server_options.cert_pem = other.cert_pem;
  server_options.key_pem = other.key_pem;
  TestHttpServer server(server_options, TlsEcho);
  HttpClient::Options options;
  options.ca_file = other_ca;
  auto client = MakeClient(options);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    Result<HttpResponse> r = SendSync(*client, HttpEndpoint{true, host, server.port()}, Request("GET", "/"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
    EXPECT_TRUE(Contains(r.status().message(), "mismatch")) << r.status().message();
  }
}

TEST_F(HttpsClientTest, VerificationCanBeTurnedOffForTests) {
  TestHttpServer server(ServerOptions(), TlsEcho);
  HttpClient::Options options;
  options.verify_tls = false;
  auto client = MakeClient(options);
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "tls:");
}

TEST_F(HttpsClientTest, HandshakeThatNeverCompletesIsAConnectTimeout) {
  TestHttpServer::Options server_options = ServerOptions();
  server_options.silent = true;  // accepts TCP, never answers the ClientHello
  TestHttpServer server(server_options, TlsEcho);
  HttpClient::Options options = TrustingOptions();
  options.connect_timeout = 200ms;
  auto client = MakeClient(options);
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "connect timed out (connect_timeout 200 ms)")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "GET " + server.endpoint().ToString() + "/x")) << r.status().message();
  EXPECT_EQ(client->stats().timeouts, 1u);
}

TEST_F(HttpsClientTest, RequestDeadlineBoundsTheHandshakeToo) {
  TestHttpServer::Options server_options = ServerOptions();
  server_options.silent = true;
  TestHttpServer server(server_options, TlsEcho);
  HttpClient::Options options = TrustingOptions();
  options.connect_timeout = 10s;
  auto client = MakeClient(options);
  HttpRequest req = Request("GET", "/x");
  req.timeout = 150ms;
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "connect timed out (request timeout 150 ms)")) << r.status().message();
}

TEST_F(HttpsClientTest, TruncatedBodyOverTlsIsUnavailable) {
  TestHttpServer server(ServerOptions(), [](const ServerRequest&) {
    ServerReply r;
    r.body = "0123456789";
    r.mode = Mode::kHalfBody;
    return r;
  });
  auto client = MakeClient(TrustingOptions());
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), "truncated body (got 5 of 10 bytes)")) << r.status().message();
}

TEST_F(HttpsClientTest, EofDelimitedBodyOverTlsWithoutCloseNotify) {
  TestHttpServer server(ServerOptions(), [](const ServerRequest&) {
    ServerReply r;
    r.body = "all of it";
    r.mode = Mode::kNoLength;
    return r;
  });
  auto client = MakeClient(TrustingOptions());
  Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "all of it");
}

TEST_F(HttpsClientTest, ServerClosingIdleTlsConnectionIsTransparent) {
  TestHttpServer server(ServerOptions(), [](const ServerRequest& req) {
    ServerReply r = TlsEcho(req);
    r.close_after = true;
    return r;
  });
  auto client = MakeClient(TrustingOptions());
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = SendSync(*client, server.endpoint(), Request("GET", "/"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(server.WaitForOpenConnections(0));
  }
  EXPECT_EQ(client->stats().connections_opened, 3u);
}

TEST_F(HttpsClientTest, DestructorCancelsHandshakeInProgress) {
  TestHttpServer::Options server_options = ServerOptions();
  server_options.silent = true;
  TestHttpServer server(server_options, TlsEcho);
  auto client = MakeClient(TrustingOptions());
  testing::Collector results(1);
  client->Send(server.endpoint(), Request("GET", "/"), results.Callback(0));
  ASSERT_TRUE(server.WaitForOpenConnections(1));
  client.reset();
  ASSERT_TRUE(results.WaitAll(0ms));
  EXPECT_EQ(results.result(0).status().code(), StatusCode::kCancelled);
}

TEST_F(HttpsClientTest, CaFileThatIsNotPemIsRejected) {
  std::string junk = dir_.Join("junk.pem");
  std::ofstream(junk) << "not a certificate\n";
  HttpClient::Options options;
  options.ca_file = junk;
  Result<std::unique_ptr<HttpClient>> c = HttpClient::Create(options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace freshet
