// Self-tests of the S3 test harness (test/testing/s3_server.h): both Node
// S3 servers start, answer and stop without leaving processes behind (also
// when the test binary dies), the SigV4 server checks signatures with the
// credentials the fixture hands out, and test/tools/fault_proxy.js injects
// exactly the faults it counts while passing everything else through intact.
#include "testing/s3_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "base/md5.h"
#include "testing/raw_http.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;
using testing::FaultProxyOptions;
using testing::RawHttp;
using testing::RawHttpOutcome;
using testing::RawHttpRequest;
using testing::RawHttpResponse;
using testing::S3Server;
using testing::S3ServerKind;
using testing::S3ServerOptions;

// A process that is gone, or a zombie nobody reaped yet (its parent, the
// test binary's child, died), is not running.
bool ProcessRunning(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool WaitUntilGone(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessRunning(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

std::unique_ptr<S3Server> StartOrFail(S3ServerOptions options) {
  auto s = S3Server::Start(std::move(options));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::string RandomBody(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class S3ServerHarnessTest : public ::testing::TestWithParam<S3ServerKind> {};

TEST_P(S3ServerHarnessTest, StartsAnswersAndStopsWithoutStrays) {
  auto server = StartOrFail({.kind = GetParam(), .buckets = {"alpha", "beta"}});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->endpoint(), "http://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(server->endpoint(), server->server_endpoint());
  EXPECT_FALSE(server->has_proxy());
  EXPECT_EQ(server->access_key(), "S3RVER");
  EXPECT_EQ(server->secret_key(), "S3RVER");
  EXPECT_EQ(server->region(), "us-east-1");

  RawHttpResponse root = RawHttp(server->port(), {});
  ASSERT_TRUE(root.ok()) << root.Describe();
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("<Name>alpha</Name>"), std::string::npos) << root.body;
  EXPECT_NE(root.body.find("<Name>beta</Name>"), std::string::npos) << root.body;

  // Anonymous requests pass both servers: a round trip through the bucket.
  RawHttpResponse put = RawHttp(server->port(), {"PUT", "/alpha/dir/k1", {}, "hello"});
  ASSERT_TRUE(put.ok() && put.status == 200) << put.Describe() << " " << put.body;
  RawHttpResponse get = RawHttp(server->port(), {"GET", "/alpha/dir/k1", {}, ""});
  ASSERT_TRUE(get.ok()) << get.Describe();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "hello");
  RawHttpResponse list = RawHttp(server->port(), {"GET", "/alpha?list-type=2&prefix=dir/", {}, ""});
  ASSERT_TRUE(list.ok()) << list.Describe();
  EXPECT_NE(list.body.find("<Key>dir/k1</Key>"), std::string::npos) << list.body;

  const pid_t pid = server->server_pid();
  const std::string data = server->data_dir();
  EXPECT_TRUE(std::filesystem::exists(data + "/alpha"));
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessRunning(pid));
  Status st = server->Stop();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(::kill(-pid, 0), -1) << "process group " << pid << " still has members";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(ProcessRunning(pid));
  EXPECT_TRUE(server->Stop().ok());  // idempotent
  server.reset();
  EXPECT_FALSE(std::filesystem::exists(data));
}

// The credentials the fixture hands out are the ones the SigV4 server
// verifies; s3rver 3.7.1 verifies nothing. An independent signer (the AWS
// SDK for JS's @smithy/signature-v4) makes the requests.
TEST_P(S3ServerHarnessTest, SignedRequestsVerifyOnlyWithTheRightSecret) {
  auto server = StartOrFail({.kind = GetParam(), .buckets = {"alpha"}, .proxy = FaultProxyOptions{.rate = 0}});
  ASSERT_TRUE(server);
  auto tools = testing::NodeToolsDir();
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  auto node = testing::NodeBinary();
  ASSERT_TRUE(node.ok());
  testing::TempDir dir("sign");
  {
    std::ofstream js(dir.Join("sign.js"));
    js << R"js(
const [tools, port, accessKeyId, secretAccessKey] = process.argv.slice(2);
const { SignatureV4 } = require(tools + '/node_modules/@smithy/signature-v4');
const { Sha256 } = require(tools + '/node_modules/@aws-crypto/sha256-js');
const http = require('node:http');
(async () => {
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1',
                                   service: 's3', sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign({
    method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: Number(port), path: '/alpha',
    query: { 'list-type': '2' },
    headers: { host: `127.0.0.1:${port}`,
               'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' } });
  http.request({ host: '127.0.0.1', port: Number(port), method: 'GET', path: '/alpha?list-type=2',
                 headers: signed.headers }, (res) => {
    res.resume();
    res.on('end', () => console.log(res.statusCode));
  }).on('error', (e) => { console.error(e.message); process.exit(1); }).end();
})();
)js";
  }
  auto status_for = [&](uint16_t port, const std::string& secret) {
    testing::CommandResult r = testing::RunCommand(
        {.argv = {*node, dir.Join("sign.js"), *tools, std::to_string(port), server->access_key(), secret}},
        std::chrono::seconds(60));
    EXPECT_TRUE(r.Ok()) << r.Describe();
    return r.out;
  };
  const bool verifies = GetParam() == S3ServerKind::kS3rverSigV4;
  EXPECT_EQ(status_for(server->server_port(), server->secret_key()), "200\n");
  EXPECT_EQ(status_for(server->server_port(), "not-the-secret"), verifies ? "403\n" : "200\n");
  // Through the proxy, signed for the proxy's host: the proxy keeps Host
  // and the signed headers as they are, so the signature still verifies.
  EXPECT_EQ(status_for(server->proxy_port(), server->secret_key()), "200\n");
  EXPECT_EQ(status_for(server->proxy_port(), "not-the-secret"), verifies ? "403\n" : "200\n");
}

INSTANTIATE_TEST_SUITE_P(Servers, S3ServerHarnessTest,
                         ::testing::Values(S3ServerKind::kS3rver, S3ServerKind::kS3rverSigV4),
                         [](const auto& info) {
                           return info.param == S3ServerKind::kS3rver ? "S3rver" : "S3rverSigV4";
                         });

// A test binary that dies without stopping its servers takes them along
// (PR_SET_PDEATHSIG): a forked copy of this test starts a server and
// aborts.
TEST(S3ServerHarness, ServersDieWithACrashedTest) {
  ASSERT_TRUE(testing::NodeToolsDir().ok());  // install before forking
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto s = S3Server::Start({.buckets = {"alpha"}, .proxy = FaultProxyOptions{.rate = 0}});
    std::string msg = s.ok() ? std::to_string((*s)->server_pid()) + " " + std::to_string((*s)->proxy_pid()) + " " +
                                   (*s)->data_dir()
                             : "error " + s.status().ToString();
    (void)!::write(fds[1], msg.data(), msg.size());
    ::close(fds[1]);
    std::abort();  // no destructors, no Stop()
  }
  ::close(fds[1]);
  std::string msg;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int ws = 0;
  ASSERT_EQ(::waitpid(child, &ws, 0), child);
  EXPECT_TRUE(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT);
  ASSERT_FALSE(msg.starts_with("error")) << msg;
  std::istringstream in(msg);
  pid_t server_pid = 0, proxy_pid = 0;
  std::string data;
  in >> server_pid >> proxy_pid >> data;
  ASSERT_GT(server_pid, 0) << msg;
  ASSERT_GT(proxy_pid, 0) << msg;
  EXPECT_TRUE(WaitUntilGone(server_pid, std::chrono::seconds(30))) << "server " << server_pid << " outlived its test";
  EXPECT_TRUE(WaitUntilGone(proxy_pid, std::chrono::seconds(30))) << "proxy " << proxy_pid << " outlived its test";
  // The crashed test could not clean up its directory; this one does.
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(data).parent_path(), ec);
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void StartWith(FaultProxyOptions proxy) {
    server_ = StartOrFail({.buckets = {"alpha"}, .proxy = proxy});
    ASSERT_TRUE(server_);
    ASSERT_TRUE(server_->has_proxy());
    ASSERT_NE(server_->proxy_port(), server_->server_port());
    ASSERT_EQ(server_->endpoint(), "http://127.0.0.1:" + std::to_string(server_->proxy_port()));
  }
  testing::FaultProxyStats Stats() {
    auto s = server_->ProxyStats();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : testing::FaultProxyStats{};
  }
  std::unique_ptr<S3Server> server_;
};

// What the client saw, by the classes the proxy's modes produce.
struct SeenFaults {
  uint64_t slowdown = 0;     // 503 SlowDown
  uint64_t internal = 0;     // 500 InternalError
  uint64_t no_response = 0;  // reset, stall, lost
  uint64_t truncated = 0;    // reset-after-headers, truncate
  uint64_t total() const { return slowdown + internal + no_response + truncated; }
  // Returns true when `r` was a fault.
  bool Record(const RawHttpResponse& r) {
    switch (r.outcome) {
      case RawHttpOutcome::kNoResponse: ++no_response; return true;
      case RawHttpOutcome::kTruncated: ++truncated; return true;
      case RawHttpOutcome::kComplete:
        if (r.status == 503) {
          EXPECT_NE(r.body.find("<Code>SlowDown</Code>"), std::string::npos) << r.body;
          EXPECT_EQ(r.Header("x-fault-injected").value_or(""), "slowdown");
          ++slowdown;
          return true;
        }
        if (r.status == 500) {
          EXPECT_NE(r.body.find("<Code>InternalError</Code>"), std::string::npos) << r.body;
          ++internal;
          return true;
        }
        return false;
      default:
        ADD_FAILURE() << "unexpected outcome: " << r.Describe();
        return true;
    }
  }
};

// 100 PUT + GET pairs through the proxy at a 20% fault rate: every fault
// the client sees is one the proxy counted, and every response that got
// through is intact.
TEST_F(FaultProxyTest, ClientSeesExactlyTheCountedFaultsAndIntactResponses) {
  StartWith({.rate = 0.2, .seed = 11, .stall = milliseconds(200)});
  std::mt19937 rng(3);
  SeenFaults seen;
  uint64_t intact_gets = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = "/alpha/obj/" + std::to_string(i);
    std::string body = RandomBody(rng, 1 + rng() % 5000);
    RawHttpResponse put = RawHttp(server_->proxy_port(), {"PUT", key, {}, body});
    bool put_failed = seen.Record(put);
    if (!put_failed) {
      ASSERT_EQ(put.status, 200) << put.Describe() << " " << put.body;
      EXPECT_EQ(put.Header("ETag").value_or(""), "\"" + Md5Hex(body) + "\"");
    }
    RawHttpResponse get = RawHttp(server_->proxy_port(), {"GET", key, {}, ""});
    if (seen.Record(get)) continue;
    if (get.status == 404) {
      // Only a put that never reached the server leaves nothing behind.
      EXPECT_TRUE(put_failed) << key;
      continue;
    }
    ASSERT_EQ(get.status, 200) << get.Describe();
    EXPECT_EQ(get.body, body) << key;  // a lost put response still stored the object
    EXPECT_EQ(get.Header("ETag").value_or(""), "\"" + Md5Hex(body) + "\"");
    ++intact_gets;
  }
  testing::FaultProxyStats stats = Stats();
  EXPECT_EQ(stats.requests, 200u);
  EXPECT_EQ(stats.faults, seen.total());
  EXPECT_EQ(stats.mode("slowdown"), seen.slowdown);
  EXPECT_EQ(stats.mode("internal"), seen.internal);
  EXPECT_EQ(stats.mode("reset") + stats.mode("stall") + stats.mode("lost"), seen.no_response);
  EXPECT_EQ(stats.mode("reset_after_headers") + stats.mode("truncate"), seen.truncated);
  EXPECT_EQ(stats.upstream_errors, 0u);
  // Roughly the rate (fixed by the seed: a sanity check, not statistics).
  EXPECT_GT(seen.total(), 20u);
  EXPECT_LT(seen.total(), 65u);
  EXPECT_GT(intact_gets, 50u);
  // Every kind of fault happened at least once in this run.
  for (const char* mode : {"slowdown", "internal", "reset", "stall", "truncate", "reset_after_headers"}) {
    EXPECT_GT(stats.mode(mode), 0u) << mode;
  }
  EXPECT_EQ(stats.mode("error200"), 0u);  // no CompleteMultipartUpload here
  std::printf("fault_proxy: %llu of 200 requests faulted (slowdown %llu, internal %llu, no response %llu, "
              "truncated %llu)\n",
              static_cast<unsigned long long>(seen.total()), static_cast<unsigned long long>(seen.slowdown),
              static_cast<unsigned long long>(seen.internal), static_cast<unsigned long long>(seen.no_response),
              static_cast<unsigned long long>(seen.truncated));
}

// Bodies and headers pass byte for byte, both ways.
TEST_F(FaultProxyTest, ForwardsHeadersAndBodiesUntouched) {
  StartWith({.rate = 0});
  std::string body;
  for (int i = 0; i < 4096; ++i) body.push_back(static_cast<char>(i & 0xff));
  RawHttpResponse put = RawHttp(server_->proxy_port(), {"PUT",
                                                        "/alpha/bin/all%20bytes%2Bplus",
                                                        {{"Content-Type", "application/x-freshet"},
                                                         {"x-amz-meta-Color", "Blue  Green"}},
                                                        body});
  ASSERT_TRUE(put.ok() && put.status == 200) << put.Describe();
  // Straight from the server, bypassing the proxy.
  RawHttpResponse direct = RawHttp(server_->server_port(), {"GET", "/alpha/bin/all%20bytes%2Bplus", {}, ""});
  ASSERT_TRUE(direct.ok() && direct.status == 200) << direct.Describe();
  EXPECT_EQ(direct.body, body);
  EXPECT_EQ(direct.Header("Content-Type").value_or(""), "application/x-freshet");
  EXPECT_EQ(direct.Header("x-amz-meta-color").value_or(""), "Blue  Green");
  RawHttpResponse via = RawHttp(server_->proxy_port(), {"GET", "/alpha/bin/all%20bytes%2Bplus", {}, ""});
  ASSERT_TRUE(via.ok() && via.status == 200) << via.Describe();
  EXPECT_EQ(via.body, body);
  for (const char* h : {"ETag", "Content-Type", "Content-Length", "Last-Modified", "x-amz-meta-color"}) {
    EXPECT_EQ(via.Header(h), direct.Header(h)) << h;
  }
  // Ranged reads and errors pass through as well.
  RawHttpResponse range = RawHttp(server_->proxy_port(), {"GET", "/alpha/bin/all%20bytes%2Bplus",
                                                          {{"Range", "bytes=10-19"}}, ""});
  ASSERT_TRUE(range.ok()) << range.Describe();
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, body.substr(10, 10));
  RawHttpResponse missing = RawHttp(server_->proxy_port(), {"GET", "/alpha/nope", {}, ""});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("NoSuchKey"), std::string::npos) << missing.body;
  EXPECT_EQ(Stats().faults, 0u);
}

// CompleteMultipartUpload can fail inside a 200: the proxy's error200.
TEST_F(FaultProxyTest, CompleteMultipartUploadGetsAnErrorInsideA200) {
  StartWith({.rate = 1.0, .modes = {"error200"}});
  const uint16_t port = server_->proxy_port();
  // Initiate (POST ?uploads) and the part upload are not CompleteMultipartUpload: forwarded.
  RawHttpResponse init = RawHttp(port, {"POST", "/alpha/big?uploads", {}, ""});
  ASSERT_TRUE(init.ok() && init.status == 200) << init.Describe() << init.body;
  size_t a = init.body.find("<UploadId>"), b = init.body.find("</UploadId>");
  ASSERT_TRUE(a != std::string::npos && b != std::string::npos) << init.body;
  std::string upload_id = init.body.substr(a + 10, b - a - 10);
  std::string part(6 * 1024 * 1024, 'p');
  RawHttpResponse put = RawHttp(port, {"PUT", "/alpha/big?partNumber=1&uploadId=" + upload_id, {}, part});
  ASSERT_TRUE(put.ok() && put.status == 200) << put.Describe();
  std::string etag = put.Header("ETag").value_or("");
  std::string complete_xml = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag +
                             "</ETag></Part></CompleteMultipartUpload>";
  RawHttpRequest complete{"POST", "/alpha/big?uploadId=" + upload_id, {}, complete_xml};
  RawHttpResponse failed = RawHttp(port, complete);
  ASSERT_TRUE(failed.ok()) << failed.Describe();
  EXPECT_EQ(failed.status, 200);
  EXPECT_NE(failed.body.find("<Error><Code>InternalError</Code>"), std::string::npos) << failed.body;
  EXPECT_EQ(RawHttp(server_->server_port(), {"HEAD", "/alpha/big", {}, ""}).status, 404);  // not completed
  EXPECT_EQ(Stats().mode("error200"), 1u);
  EXPECT_EQ(Stats().faults, 1u);

  ASSERT_TRUE(server_->ConfigureProxy({.rate = 0}).ok());
  RawHttpResponse done = RawHttp(port, complete);
  ASSERT_TRUE(done.ok() && done.status == 200) << done.Describe();
  EXPECT_NE(done.body.find("CompleteMultipartUploadResult"), std::string::npos) << done.body;
  RawHttpResponse head = RawHttp(port, {"HEAD", "/alpha/big", {}, ""});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length").value_or(""), std::to_string(part.size()));
}

// The draws depend only on (seed, request number): reconfiguring with the
// same seed replays the same faults; control requests are never proxied.
TEST_F(FaultProxyTest, SameSeedSameFaultsAndControlRequestsStayLocal) {
  StartWith({.rate = 0});
  ASSERT_EQ(RawHttp(server_->proxy_port(), {"PUT", "/alpha/k", {}, "v"}).status, 200);
  auto outcomes = [&] {
    std::vector<std::string> out;
    for (int i = 0; i < 40; ++i) {
      RawHttpResponse r = RawHttp(server_->proxy_port(), {"GET", "/alpha/k", {}, ""});
      out.push_back(std::string(testing::RawHttpOutcomeName(r.outcome)) + " " + std::to_string(r.status));
    }
    return out;
  };
  FaultProxyOptions o{.rate = 0.5, .seed = 5, .modes = {"slowdown", "internal", "reset", "truncate"}};
  ASSERT_TRUE(server_->ConfigureProxy(o).ok());
  auto first = outcomes();
  ASSERT_TRUE(server_->ConfigureProxy(o).ok());
  auto second = outcomes();
  EXPECT_EQ(first, second);
  o.seed = 6;
  ASSERT_TRUE(server_->ConfigureProxy(o).ok());
  EXPECT_NE(outcomes(), first);

  const uint64_t before = Stats().requests;
  RawHttpResponse unknown = RawHttp(server_->proxy_port(), {"GET", "/__fault_nothing", {}, ""});
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Header("Content-Type").value_or(""), "application/json");
  RawHttpResponse bad = RawHttp(server_->proxy_port(), {"PUT", "/__fault_config?rate=7", {}, ""});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Stats().requests, before);  // neither counted nor forwarded
  EXPECT_FALSE(server_->ConfigureProxy({.rate = 0.1, .modes = {"no-such-mode"}}).ok());
}

// Stop ends the proxy too, and it reports its counters on the way out.
TEST_F(FaultProxyTest, StopEndsTheProxyAndTheServer) {
  StartWith({.rate = 0});
  pid_t proxy = server_->proxy_pid(), s3 = server_->server_pid();
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_FALSE(ProcessRunning(proxy));
  EXPECT_FALSE(ProcessRunning(s3));
  RawHttpResponse r = RawHttp(server_->proxy_port(), {}, milliseconds(2000));
  EXPECT_EQ(r.outcome, RawHttpOutcome::kConnectFailed) << r.Describe();
}

}  // namespace
}  // namespace freshet
