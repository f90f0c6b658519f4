// Self-tests of the S3 test harness (test/testing/s3_server.h): both Node
// S3 servers start, answer and stop without leaving processes behind (also
// when the test binary dies), the SigV4 server checks signatures with the
// credentials the fixture hands out.
#include "testing/s3_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/raw_http.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;
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
  auto server = StartOrFail({.kind = GetParam(), .buckets = {"alpha"}});
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
    auto s = S3Server::Start({.buckets = {"alpha"}});
    std::string msg = s.ok() ? std::to_string((*s)->server_pid()) + " " + (*s)->data_dir()
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
  pid_t server_pid = 0;
  std::string data;
  in >> server_pid >> data;
  ASSERT_GT(server_pid, 0) << msg;
  EXPECT_TRUE(WaitUntilGone(server_pid, std::chrono::seconds(30))) << "server " << server_pid << " outlived its test";
  // The crashed test could not clean up its directory; this one does.
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(data).parent_path(), ec);
}

}  // namespace
}  // namespace freshet
