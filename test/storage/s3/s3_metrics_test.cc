// AddS3Collector against an S3Store talking to the scripted HTTP server:
// a 503 retried once, a connection closed without a response, a 404, an
// upload; the rendered families show each attempt by status, the retries,
// the bytes and the HTTP client's connections. A MeteredStore on top counts
// each logical call once, whatever the S3 store retried.
#include "storage/s3/s3_metrics.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "base/md5.h"
#include "storage/blocking_store.h"
#include "storage/http/test_http_server.h"
#include "storage/metered_store.h"
#include "storage/s3/s3_store.h"
#include "storage/s3/s3_store_test_util.h"
#include "testing/background_process.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

testing::ServerReply ScriptedReply(int status, std::string body = "", HttpHeaders headers = {}) {
  testing::ServerReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

HttpHeaders Etag(const std::string& body) { return {{"ETag", "\"" + Md5Hex(body) + "\""}}; }

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

// The value on the line that starts with `series` + " ", or -1.
double ValueOf(const std::string& text, const std::string& series) {
  const std::string start = "\n" + series + " ";
  auto at = text.find(start);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + start.size(), text.find('\n', at + start.size()) - at - start.size()));
}

// `promtool check metrics < text`: "" when it accepts the text without a
// word, else what it said.
std::string PromtoolComplaints(const std::string& text) {
  if (access("/usr/bin/promtool", X_OK) != 0)
    return "/usr/bin/promtool not found (Debian package 'prometheus'): run scripts/install-deps.sh test";
  testing::TempDir dir("s3-metrics");
  std::ofstream(dir.Join("metrics.txt"), std::ios::binary) << text;
  testing::ProcessOptions o;
  o.argv = {"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < \"$0\"", dir.Join("metrics.txt")};
  testing::CommandResult r = testing::RunCommand(o, std::chrono::seconds(60));
  if (r.Ok() && r.out.empty() && r.err.empty()) return "";
  std::string complaint = r.Describe();
  complaint += '\n';
  complaint += r.out;
  complaint += r.err;
  return complaint;
}

TEST(S3MetricsTest, CollectorExportsAttemptsRetriesBytesAndConnections) {
  std::mutex mu;
  std::map<std::string, int> seen;  // "METHOD target" -> requests so far
  testing::TestHttpServer server([&](const testing::ServerRequest& req) {
    std::lock_guard lock(mu);
    const int n = ++seen[req.method + " " + req.target];
    if (req.method == "GET" && req.target == "/bucket/p/slow") {
      if (n == 1) {
        return ScriptedReply(503,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                     "<Message>Please reduce your request rate.</Message></Error>");
      }
      return ScriptedReply(200, "hello", Etag("hello"));
    }
    if (req.method == "GET" && req.target == "/bucket/p/reset") {
      if (n == 1) {
        testing::ServerReply r;
        r.mode = testing::ServerReply::Mode::kCloseWithoutResponse;
        return r;
      }
      return ScriptedReply(200, "abc", Etag("abc"));
    }
    if (req.method == "PUT") return ScriptedReply(200, "", Etag(req.body));
    return ScriptedReply(404);  // HEAD of a missing key
  });
  auto created = s3test::CreateStore("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket/p",
                                     [](S3Store::Options& o) {
                                       o.retry.max_attempts = 3;
                                       o.retry.base_delay = std::chrono::milliseconds(1);
                                       o.retry.max_delay = std::chrono::milliseconds(5);
                                     });
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const S3Store* s3 = created->get();
  MetricsRegistry reg;
  AddS3Collector(reg, "sink", s3);
  auto store = MakeMeteredStore(std::move(created).value(), "sink", &reg);

  // First, on a fresh connection: a pooled one closed without a response
  // would be resent by the HTTP client itself (a stale reconnect), unseen
  // by the S3 store's attempts.
  auto reset = GetSync(*store, "reset");
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  auto slow = GetSync(*store, "slow");
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->body, "hello");
  ASSERT_TRUE(PutSync(*store, "up", "data").ok());
  EXPECT_EQ(HeadSync(*store, "missing").status().code(), StatusCode::kNotFound);

  const std::string text = reg.RenderPrometheus();
  const S3Stats stats = s3->stats();
  SCOPED_TRACE(text + s3test::FormatStats(stats));
  for (const char* line : {
           "freshet_s3_requests_total{store=\"sink\",operation=\"GetObject\",code=\"503\"} 1",
           "freshet_s3_requests_total{store=\"sink\",operation=\"GetObject\",code=\"200\"} 2",
           "freshet_s3_requests_total{store=\"sink\",operation=\"GetObject\",code=\"none\"} 1",
           "freshet_s3_requests_total{store=\"sink\",operation=\"PutObject\",code=\"200\"} 1",
           "freshet_s3_requests_total{store=\"sink\",operation=\"HeadObject\",code=\"404\"} 1",
           "freshet_s3_operations_total{store=\"sink\",operation=\"GetObject\"} 2",
           "freshet_s3_retries_total{store=\"sink\",operation=\"GetObject\"} 2",
           "freshet_s3_retries_total{store=\"sink\",operation=\"PutObject\"} 0",
           "freshet_s3_errors_total{store=\"sink\",operation=\"GetObject\"} 0",
           "freshet_s3_retry_budget_exhausted_total{store=\"sink\"} 0",
           "freshet_s3_bytes_total{store=\"sink\",direction=\"downloaded\"} 8",
           "freshet_s3_bytes_total{store=\"sink\",direction=\"uploaded\"} 4",
           // The metered store above it: one per logical call.
           "freshet_object_store_requests_total{store=\"sink\",operation=\"get\",status=\"ok\"} 2",
           "freshet_object_store_requests_total{store=\"sink\",operation=\"head\",status=\"not_found\"} 1",
       }) {
    EXPECT_TRUE(HasLine(text, line)) << line;
  }
  for (const char* type : {"# TYPE freshet_s3_requests_total counter\n", "# TYPE freshet_s3_http_bytes_total counter\n",
                           "# TYPE freshet_s3_connections_reused_total counter\n",
                           "# TYPE freshet_s3_stale_reconnects_total counter\n",
                           "# TYPE freshet_s3_http_timeouts_total counter\n",
                           "# TYPE freshet_s3_confirmed_total counter\n"}) {
    EXPECT_NE(text.find(type), std::string::npos) << type;
  }
  // The HTTP client's figures are the store's own.
  EXPECT_EQ(ValueOf(text, "freshet_s3_connections_opened_total{store=\"sink\"}"),
            static_cast<double>(stats.http.connections_opened));
  EXPECT_GE(stats.http.connections_opened, 2u) << "the closed connection forced a new one";
  EXPECT_EQ(ValueOf(text, "freshet_s3_http_failures_total{store=\"sink\"}"), static_cast<double>(stats.http.failures));
  EXPECT_GE(stats.http.failures, 1u);
  EXPECT_EQ(ValueOf(text, "freshet_s3_http_bytes_total{store=\"sink\",direction=\"sent\"}"),
            static_cast<double>(stats.http.bytes_sent));
  EXPECT_GE(stats.http.bytes_sent, 4u);

  // The S3 and object-store names lint clean.
  EXPECT_EQ(PromtoolComplaints(text), "");

  // Values are read at each render: another call shows up in the next one.
  ASSERT_TRUE(GetSync(*store, "slow").ok());
  EXPECT_TRUE(HasLine(reg.RenderPrometheus(),
                      "freshet_s3_operations_total{store=\"sink\",operation=\"GetObject\"} 3"));
}

}  // namespace
}  // namespace freshet
