// The status page: what RenderStatusPage() emits (self-contained, escaped),
// and what a real browser draws from it (headless Chromium, served by the
// AdminServer with /status answering the same JSON).
#include "admin/status_page.h"

#include <rapidjson/document.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "admin/admin_server.h"
#include "testing/background_process.h"
#include "testing/headless_chromium.h"
#include "testing/temp_dir.h"
#include "testing/files.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;

std::string TestDataPath(const std::string& name) {
  std::string rel = "test/admin/testdata/" + name;
  if (const char* dir = std::getenv("FRESHET_SOURCE_DIR")) return std::string(dir) + "/" + rel;
  // Run by hand: the tree this file was compiled from.
  return (std::filesystem::path(__FILE__).parent_path() / "testdata" / name).string();
}

using testing::ReadFile;

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string_view::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// The text of <script type="application/json" id="status-data">.
std::string EmbeddedJson(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"status-data\">";
  size_t start = page.find(open);
  if (start == std::string::npos) return "";
  start += open.size();
  size_t end = page.find("</script>", start);
  if (end == std::string::npos) return "";
  return page.substr(start, end - start);
}

// ---------------------------------------------------------------------------
// RenderStatusPage

TEST(StatusPageTest, IsOneSelfContainedDocument) {
  std::string page = RenderStatusPage(ReadFile(TestDataPath("status_no_batches.json")));
  ASSERT_GT(page.size(), 5000u);
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  // Nothing fetched from elsewhere: no URLs, no src=, no stylesheets or
  // imports. (The fixture itself names no http(s) URL.)
  for (const char* banned : {"http://", "https://", "src=", "<link", "@import", "url(", "<img", "<iframe"}) {
    EXPECT_EQ(page.find(banned), std::string::npos) << banned;
  }
  EXPECT_NE(page.find("<style>"), std::string::npos);
  EXPECT_NE(page.find("fetch('/status'"), std::string::npos);
  for (const char* id : {"chart-input-rate", "chart-duration", "chart-freshness"}) {
    EXPECT_NE(page.find(std::string("<svg id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(page.find("{{title}}"), std::string::npos);
  EXPECT_EQ(page.find("{{status_json}}"), std::string::npos);
}

TEST(StatusPageTest, EmbeddedJsonCannotEndTheScriptBlock) {
  // "</script>", "<!--", '&' and U+2028/U+2029 inside strings.
  const std::string message = "fetch: 503 </script><script>alert(1)</script> <!-- & \xE2\x80\xA8 \xE2\x80\xA9 end";
  std::string json = "{\"recent_batches\":[{\"batch_id\":1,\"message\":\"";
  json += "fetch: 503 <\\/script>";  // an already escaped slash stays as it is
  json += "\"},{\"batch_id\":2,\"message\":\"";
  json += message;
  json += "\"}]}";
  std::string page = RenderStatusPage(json);
  const std::string baseline = RenderStatusPage("{}");

  EXPECT_EQ(Count(page, "</script"), Count(baseline, "</script"));
  EXPECT_EQ(Count(page, "<script"), Count(baseline, "<script"));
  EXPECT_EQ(Count(page, "<!--"), Count(baseline, "<!--"));
  EXPECT_EQ(page.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_EQ(page.find("\xE2\x80\xA9"), std::string::npos);
  EXPECT_EQ(page.find("alert(1)</"), std::string::npos);

  // The block still parses to the same document.
  std::string embedded = EmbeddedJson(page);
  ASSERT_FALSE(embedded.empty());
  EXPECT_NE(embedded.find("\\u003c/script\\u003e"), std::string::npos) << embedded;
  EXPECT_NE(embedded.find("\\u2028"), std::string::npos);
  rapidjson::Document doc;
  doc.Parse(embedded.data(), embedded.size());
  ASSERT_FALSE(doc.HasParseError()) << embedded;
  EXPECT_EQ(std::string(doc["recent_batches"][0]["message"].GetString()), "fetch: 503 </script>");
  EXPECT_EQ(std::string(doc["recent_batches"][1]["message"].GetString()), message);
}

TEST(StatusPageTest, TitleIsHtmlEscapedAndSlotsAreFilledOnce) {
  std::string page = RenderStatusPage("{\"note\":\"{{title}}\"}", "<b>\"prod\" & 'eu'</b>");
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_EQ(Count(page, "&lt;b&gt;&quot;prod&quot; &amp; &#39;eu&#39;&lt;/b&gt;"), 2u);  // <title> and <h1>
  EXPECT_NE(page.find("<title>&lt;b&gt;"), std::string::npos);
  // A slot name inside the JSON is data, not a slot.
  EXPECT_NE(EmbeddedJson(page).find("{{title}}"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Headless Chromium

// Serves "/" (the page with `json` embedded) and "/status" (`json`) on
// 127.0.0.1:0 from an io_context run by its own thread.
class PageServer {
 public:
  PageServer(std::string json, int status_code = 200) : json_(std::move(json)), status_code_(status_code) {}
  ~PageServer() { Stop(); }

  void Start() {
    AdminServerOptions options;
    options.listen = "127.0.0.1:0";
    auto handler = [this](const AdminRequest& req) {
      AdminResponse r;
      if (req.path == "/") {
        r.content_type = "text/html; charset=utf-8";
        r.body = RenderStatusPage(json_, "freshet test");
      } else if (req.path == "/status") {
        status_requests_++;
        r.status = status_code_;
        r.content_type = "application/json";
        r.body = status_code_ == 200 ? json_ : "{\"error\":\"unavailable\"}";
      } else {
        r.status = 404;
        r.body = "not found\n";
      }
      return r;
    };
    auto started = AdminServer::Start(io_, options, handler);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started.value());
    thread_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
    if (server_) server_->Stop();
    work_.reset();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  std::string url() const { return server_->url() + "/"; }
  int status_requests() const { return status_requests_.load(); }

 private:
  std::string json_;
  int status_code_;
  std::atomic<int> status_requests_{0};
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
};

// The markup of <svg id="`id`" ...>...</svg> in a DOM dump.
std::string SvgElement(const std::string& dom, const std::string& id) {
  size_t id_at = dom.find("id=\"" + id + "\"");
  if (id_at == std::string::npos) return "";
  size_t start = dom.rfind("<svg", id_at);
  size_t end = dom.find("</svg>", id_at);
  if (start == std::string::npos || end == std::string::npos) return "";
  return dom.substr(start, end + 6 - start);
}

// The value of attribute `name` in the tag `tag` ("" when absent).
std::string Attribute(std::string_view tag, std::string_view name) {
  std::string key = " " + std::string(name) + "=\"";
  size_t at = tag.find(key);
  if (at == std::string_view::npos) return "";
  at += key.size();
  size_t end = tag.find('"', at);
  return end == std::string_view::npos ? "" : std::string(tag.substr(at, end - at));
}

// Reads "<digits>[.<digits>]" at `pos`; false when there is none.
bool SkipNumber(std::string_view s, size_t& pos) {
  size_t start = pos;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  if (pos == start) return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  return true;
}

// A drawn series: a <path class="series ..."> whose d starts with real
// coordinates and goes on ("M54.0 123.4L..." for lines, "M60.1 200.0H..."
// for bars).
bool HasSeriesPath(const std::string& svg) {
  for (size_t p = svg.find("<path"); p != std::string::npos; p = svg.find("<path", p + 1)) {
    std::string_view tag = std::string_view(svg).substr(p, svg.find('>', p) - p);
    if ((" " + Attribute(tag, "class") + " ").find(" series ") == std::string::npos) continue;
    std::string d = Attribute(tag, "d");
    size_t pos = 1;
    if (d.empty() || d[0] != 'M' || !SkipNumber(d, pos) || pos >= d.size() || d[pos++] != ' ' ||
        !SkipNumber(d, pos) || pos >= d.size() || (d[pos] != 'L' && d[pos] != 'H')) {
      continue;
    }
    ++pos;
    if (SkipNumber(d, pos)) return true;
  }
  return false;
}

class StatusPageChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(testing::ChromiumBinary().empty())
        << "chromium is missing: run scripts/install-deps.sh test (it installs Debian's chromium)";
  }
};

TEST_F(StatusPageChromiumTest, DrawsChartsAndStateFromThirtyBatches) {
  const std::string json = ReadFile(TestDataPath("status_30_batches.json"));
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  const size_t batches = doc["recent_batches"].Size();
  ASSERT_EQ(batches, 30u);

  PageServer server(json);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  testing::ChromiumResult run = testing::ChromiumDumpDom(server.url());
  ASSERT_TRUE(run.ok()) << run.error;
  const std::string& dom = run.output;

  EXPECT_NE(dom.find("data-rendered=\"true\""), std::string::npos) << dom.substr(0, 2000);
  const std::string points = "data-points=\"" + std::to_string(batches) + "\"";
  for (const char* id : {"chart-input-rate", "chart-duration", "chart-freshness"}) {
    SCOPED_TRACE(id);
    std::string svg = SvgElement(dom, id);
    ASSERT_FALSE(svg.empty());
    EXPECT_NE(svg.find(points), std::string::npos) << svg.substr(0, 300);
    EXPECT_TRUE(HasSeriesPath(svg)) << svg.substr(0, 3000);
    EXPECT_NE(svg.find("class=\"chart-title\""), std::string::npos);
    EXPECT_NE(svg.find("class=\"tick\""), std::string::npos);
    EXPECT_NE(svg.find("class=\"axis-label\""), std::string::npos);
    // The failed batch (613) is marked in every chart.
    EXPECT_NE(svg.find("class=\"failed-marker\""), std::string::npos);
  }
  // The trigger interval line (30 s) on the duration chart, the failed bar,
  // the full_and_delta batch's extra duration.
  std::string duration = SvgElement(dom, "chart-duration");
  EXPECT_NE(duration.find("id=\"chart-duration-ref-line\""), std::string::npos);
  EXPECT_NE(duration.find("data-value=\"30\""), std::string::npos);
  EXPECT_NE(duration.find("trigger interval 30 s"), std::string::npos);
  EXPECT_NE(duration.find("class=\"failed-bar failed\""), std::string::npos);
  EXPECT_NE(SvgElement(dom, "chart-freshness").find("lag (min)"), std::string::npos);

  // Current state and tables.
  EXPECT_NE(dom.find("not eligible until 2026-11-22T14:17:00Z (end 14:15 + grace 2m)"), std::string::npos);
  EXPECT_NE(dom.find("UNHEALTHY"), std::string::npos);
  EXPECT_NE(dom.find("no commit for 11 min (limit 10 min)"), std::string::npos);
  EXPECT_NE(dom.find("2026-11-22 14:00:00Z"), std::string::npos);  // watermark
  EXPECT_NE(dom.find("7 min 3 s"), std::string::npos);              // freshness lag now
  EXPECT_NE(dom.find("#626"), std::string::npos);                   // batch in flight
  EXPECT_NE(dom.find("delta/20261122T141030Z-0271"), std::string::npos);
  EXPECT_NE(dom.find("full_and_delta"), std::string::npos);
  EXPECT_NE(dom.find("(newest 20 of 30)"), std::string::npos);
  // The failed batch's message arrives as text, not markup.
  EXPECT_NE(dom.find("503 SlowDown after 4 attempts &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(dom.find("<b>x</b>"), std::string::npos);
  EXPECT_EQ(dom.find(">could not draw"), std::string::npos);  // the render-error box stays empty
}

TEST_F(StatusPageChromiumTest, SaysNoBatchesYetWithoutBatches) {
  PageServer server(ReadFile(TestDataPath("status_no_batches.json")));
  ASSERT_NO_FATAL_FAILURE(server.Start());
  testing::ChromiumResult run = testing::ChromiumDumpDom(server.url());
  ASSERT_TRUE(run.ok()) << run.error;
  const std::string& dom = run.output;
  EXPECT_NE(dom.find("data-rendered=\"true\""), std::string::npos) << dom.substr(0, 2000);
  for (const char* id : {"chart-input-rate", "chart-duration", "chart-freshness"}) {
    SCOPED_TRACE(id);
    std::string svg = SvgElement(dom, id);
    EXPECT_NE(svg.find("data-points=\"0\""), std::string::npos) << svg;
    EXPECT_NE(svg.find("no batches yet"), std::string::npos) << svg;
    EXPECT_FALSE(HasSeriesPath(svg));
  }
  EXPECT_NE(dom.find("no eligible partition yet: source is empty"), std::string::npos);
  EXPECT_NE(dom.find("none yet"), std::string::npos);  // watermark
}

TEST_F(StatusPageChromiumTest, KeepsDataAndSaysSoWhenRefreshFails) {
  // /status answers 503: the page keeps the embedded data and says why.
  PageServer server(ReadFile(TestDataPath("status_30_batches.json")), 503);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  testing::ChromiumResult run = testing::ChromiumDumpDom(server.url(), std::chrono::milliseconds(8000));
  ASSERT_TRUE(run.ok()) << run.error;
  const std::string& dom = run.output;
  EXPECT_GE(server.status_requests(), 1);
  EXPECT_NE(dom.find("refresh failed: HTTP 503"), std::string::npos) << dom.substr(0, 3000);
  EXPECT_NE(dom.find("(showing data from 2026-11-22 14:12:03Z)"), std::string::npos);
  EXPECT_NE(SvgElement(dom, "chart-duration").find("data-points=\"30\""), std::string::npos);
}

TEST_F(StatusPageChromiumTest, ScreenshotAt1280x900) {
  PageServer server(ReadFile(TestDataPath("status_30_batches.json")));
  ASSERT_NO_FATAL_FAILURE(server.Start());
  testing::TempDir dir("chromium");
  const std::string png = dir.Join("page.png");
  testing::ChromiumResult run = testing::ChromiumScreenshot(server.url(), png);
  ASSERT_TRUE(run.ok()) << run.error;
  EXPECT_GT(std::filesystem::file_size(png), 10u * 1024);
  const std::string bytes = ReadFile(png);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace freshet
