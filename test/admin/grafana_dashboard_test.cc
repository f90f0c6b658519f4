// conf/grafana/freshet-dashboard.json: importable (valid JSON, a
// ${DS_PROMETHEUS} input, unique panel ids), every panel queries Prometheus,
// the queries name only metrics the daemon exports, every exported metric
// is shown somewhere, and Prometheus itself parses every expression.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing/background_process.h"
#include "testing/temp_dir.h"
#include "testing/files.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;

// The metrics the dashboard is drawn from, by base name (histograms
// without _bucket/_sum/_count). The daemon exports these names; a rename
// on either side must show up here.
const std::set<std::string> kExpectedMetrics = {
    "freshet_freshness_lag_seconds",
    "freshet_watermark_timestamp_seconds",
    "freshet_batch_duration_seconds",
    "freshet_trigger_interval_seconds",
    "freshet_batch_stage_duration_seconds",
    "freshet_batches_total",
    "freshet_triggers_coalesced_total",
    "freshet_triggers_total",
    "freshet_backlog_partitions",
    "freshet_not_eligible_partitions",
    "freshet_skipped_partitions_total",
    "freshet_input_records_total",
    "freshet_input_bytes_total",
    "freshet_bad_records_total",
    "freshet_output_bytes_total",
    "freshet_object_store_requests_total",
    "freshet_s3_retries_total",
    "freshet_s3_requests_total",
    "freshet_event_loop_lag_seconds",
    "process_resident_memory_bytes",
    "process_open_fds",
    "freshet_uptime_seconds",
    "freshet_restarts_total",
    "freshet_healthy",
    "freshet_ready",
};

std::string DashboardPath() {
  const char* src = std::getenv("FRESHET_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/conf/grafana/freshet-dashboard.json";
}

using testing::ReadFile;

std::string Str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string();
}

// Metric base names in a PromQL expression.
std::set<std::string> MetricNames(const std::string& expr) {
  static const std::regex kName(R"(\b(?:freshet|process)_\w+)");
  static const std::regex kSuffix(R"(_(?:bucket|sum|count)$)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kName); it != std::sregex_iterator(); ++it) {
    names.insert(std::regex_replace(it->str(), kSuffix, ""));
  }
  return names;
}

struct Query {
  std::string panel;  // title, for messages
  std::string expr;
};

class GrafanaDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = ReadFile(DashboardPath());
    ASSERT_FALSE(text_.empty()) << DashboardPath();
    doc_.Parse(text_.data(), text_.size());
    ASSERT_FALSE(doc_.HasParseError()) << DashboardPath() << ": " << rapidjson::GetParseError_En(doc_.GetParseError())
                                       << " at offset " << doc_.GetErrorOffset();
    ASSERT_TRUE(doc_.IsObject());
    ASSERT_TRUE(doc_.HasMember("panels") && doc_["panels"].IsArray());
  }

  // Every query panel's targets (rows hold none).
  std::vector<Query> Queries() const {
    std::vector<Query> out;
    for (const auto& p : doc_["panels"].GetArray()) {
      if (!p.HasMember("targets") || !p["targets"].IsArray()) continue;
      for (const auto& t : p["targets"].GetArray()) {
        if (t.IsObject() && t.HasMember("expr")) out.push_back({Str(p["title"]), Str(t["expr"])});
      }
    }
    return out;
  }

  std::string text_;
  rapidjson::Document doc_;
};

TEST_F(GrafanaDashboardTest, IsAnImportableDashboard) {
  ASSERT_TRUE(doc_.HasMember("schemaVersion") && doc_["schemaVersion"].IsInt());
  EXPECT_GE(doc_["schemaVersion"].GetInt(), 37);
  EXPECT_FALSE(Str(doc_["title"]).empty());
  EXPECT_FALSE(Str(doc_["uid"]).empty());

  // The datasource is chosen at import time through this input.
  ASSERT_TRUE(doc_.HasMember("__inputs") && doc_["__inputs"].IsArray());
  bool has_input = false;
  for (const auto& in : doc_["__inputs"].GetArray()) {
    has_input = has_input || (Str(in["name"]) == "DS_PROMETHEUS" && Str(in["type"]) == "datasource" &&
                              Str(in["pluginId"]) == "prometheus");
  }
  EXPECT_TRUE(has_input) << "no DS_PROMETHEUS datasource input";

  // $instance, filled from a freshet metric.
  ASSERT_TRUE(doc_.HasMember("templating") && doc_["templating"]["list"].IsArray());
  bool has_instance = false;
  for (const auto& v : doc_["templating"]["list"].GetArray()) {
    if (Str(v["name"]) != "instance") continue;
    has_instance = true;
    EXPECT_EQ(Str(v["datasource"]["uid"]), "${DS_PROMETHEUS}");
    std::string def = Str(v["definition"]);
    EXPECT_THAT(def, ::testing::StartsWith("label_values("));
    for (const std::string& name : MetricNames(def)) EXPECT_TRUE(kExpectedMetrics.count(name)) << def;
  }
  EXPECT_TRUE(has_instance) << "no templating variable \"instance\"";
}

TEST_F(GrafanaDashboardTest, PanelsHaveUniqueIdsADatasourceAndQueries) {
  std::set<int> ids;
  int query_panels = 0;
  for (const auto& p : doc_["panels"].GetArray()) {
    ASSERT_TRUE(p.IsObject());
    const std::string title = Str(p["title"]);
    ASSERT_TRUE(p.HasMember("id") && p["id"].IsInt()) << title;
    EXPECT_TRUE(ids.insert(p["id"].GetInt()).second) << "panel id " << p["id"].GetInt() << " repeats (" << title << ")";
    ASSERT_TRUE(p.HasMember("gridPos") && p["gridPos"].IsObject()) << title;
    const std::string type = Str(p["type"]);
    if (type == "row") {
      // A row only groups; it must not pretend to query anything.
      EXPECT_FALSE(p.HasMember("targets")) << title;
      continue;
    }
    ++query_panels;
    EXPECT_THAT(type, ::testing::AnyOf("timeseries", "stat")) << title;
    EXPECT_FALSE(title.empty());
    ASSERT_TRUE(p.HasMember("datasource") && p["datasource"].IsObject()) << title;
    EXPECT_EQ(Str(p["datasource"]["uid"]), "${DS_PROMETHEUS}") << title;
    ASSERT_TRUE(p.HasMember("targets") && p["targets"].IsArray()) << title;
    ASSERT_GE(p["targets"].Size(), 1u) << title;
    std::set<std::string> ref_ids;
    for (const auto& t : p["targets"].GetArray()) {
      EXPECT_FALSE(Str(t["expr"]).empty()) << title;
      EXPECT_TRUE(ref_ids.insert(Str(t["refId"])).second) << title << ": refId repeats";
    }
  }
  EXPECT_GE(query_panels, 20);
}

TEST_F(GrafanaDashboardTest, QueriesUseExactlyTheExportedMetrics) {
  std::set<std::string> used;
  for (const Query& q : Queries()) {
    std::set<std::string> names = MetricNames(q.expr);
    EXPECT_FALSE(names.empty()) << q.panel << ": " << q.expr;
    for (const std::string& name : names) {
      EXPECT_TRUE(kExpectedMetrics.count(name)) << q.panel << ": unknown metric " << name << " in " << q.expr;
      used.insert(name);
    }
    // Every query follows the $instance selection.
    EXPECT_THAT(q.expr, ::testing::HasSubstr("instance=~\"$instance\"")) << q.panel;
  }
  for (const std::string& name : kExpectedMetrics) EXPECT_TRUE(used.count(name)) << name << " is on no panel";
}

// The extraction itself: histogram suffixes come off, labels and functions
// are not metric names.
TEST(GrafanaMetricNamesTest, ExtractsBaseNames) {
  EXPECT_EQ(MetricNames("histogram_quantile(0.9, sum by (le, stage) (rate(freshet_batch_stage_duration_seconds_bucket"
                        "{instance=~\"$instance\"}[5m]))) / process_open_fds"),
            (std::set<std::string>{"freshet_batch_stage_duration_seconds", "process_open_fds"}));
  EXPECT_EQ(MetricNames("rate(freshet_batch_duration_seconds_sum[5m]) / "
                        "rate(freshet_batch_duration_seconds_count[5m])"),
            (std::set<std::string>{"freshet_batch_duration_seconds"}));
  EXPECT_EQ(MetricNames("sum(up)"), std::set<std::string>{});
}

// Prometheus parses every expression (as recording rules, after Grafana's
// variables are substituted): a typo in PromQL fails here, not on a screen.
TEST_F(GrafanaDashboardTest, PromtoolParsesEveryExpression) {
  std::string promtool = testing::FindInPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not found (Debian package prometheus): run scripts/install-deps.sh test";
  std::string rules = "groups:\n- name: freshet_dashboard\n  rules:\n";
  int n = 0;
  for (const Query& q : Queries()) {
    std::string expr = std::regex_replace(q.expr, std::regex(R"(\$__rate_interval)"), "5m");
    expr = std::regex_replace(expr, std::regex(R"(\$instance)"), ".+");
    std::string quoted;  // a YAML double-quoted scalar
    for (char c : expr) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    rules += "  - record: dashboard_expr_";
    rules += std::to_string(n++);
    rules += "\n    expr: \"";
    rules += quoted;
    rules += "\"\n";
  }
  ASSERT_GT(n, 0);
  testing::TempDir dir("grafana");
  const std::string path = dir.Join("rules.yml");
  {
    std::ofstream out(path);
    out << rules;
    ASSERT_TRUE(out.good());
  }
  testing::CommandResult r = testing::RunCommand({.argv = {promtool, "check", "rules", path}}, 120s);
  EXPECT_TRUE(r.Ok()) << r.Describe() << "\n" << r.out << r.err;
  std::string success = "SUCCESS: ";
  success += std::to_string(n);
  success += " rules found";
  EXPECT_THAT(r.out, ::testing::HasSubstr(success)) << r.out << r.err;
}

}  // namespace
}  // namespace freshet
