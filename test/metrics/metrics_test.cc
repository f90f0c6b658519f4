// The registry and its Prometheus text: exact output for every metric
// kind, escaping, number formatting, ordering, child identity, collectors
// merging into registered families, concurrent updates, name checks and
// what misuse does (assert in debug builds, ignored in release ones).
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace freshet {
namespace {

TEST(MetricsRenderTest, CountersAndGaugesExactly) {
  MetricsRegistry reg;
  reg.GetCounter("freshet_batches_total", "Batches by outcome.", {{"outcome", "failed"}}).Inc(2);
  reg.GetCounter("freshet_batches_total", "Batches by outcome.", {{"outcome", "committed"}}).Inc();
  reg.GetGauge("freshet_lag_seconds", "Freshness lag.").Set(12.5);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP freshet_batches_total Batches by outcome.\n"
            "# TYPE freshet_batches_total counter\n"
            "freshet_batches_total{outcome=\"committed\"} 1\n"
            "freshet_batches_total{outcome=\"failed\"} 2\n"
            "# HELP freshet_lag_seconds Freshness lag.\n"
            "# TYPE freshet_lag_seconds gauge\n"
            "freshet_lag_seconds 12.5\n");
}

TEST(MetricsRenderTest, HistogramWithLabelsExactly) {
  MetricsRegistry reg;
  Histogram& h = reg.GetHistogram("freshet_batch_duration_seconds", "Batch time.", {0.1, 1, 10},
                                  {{"stage", "build"}, {"sink", "main"}});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive: counts in the 0.1 bucket
  h.Observe(2);
  h.Observe(100);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP freshet_batch_duration_seconds Batch time.\n"
            "# TYPE freshet_batch_duration_seconds histogram\n"
            "freshet_batch_duration_seconds_bucket{stage=\"build\",sink=\"main\",le=\"0.1\"} 2\n"
            "freshet_batch_duration_seconds_bucket{stage=\"build\",sink=\"main\",le=\"1\"} 2\n"
            "freshet_batch_duration_seconds_bucket{stage=\"build\",sink=\"main\",le=\"10\"} 3\n"
            "freshet_batch_duration_seconds_bucket{stage=\"build\",sink=\"main\",le=\"+Inf\"} 4\n"
            "freshet_batch_duration_seconds_sum{stage=\"build\",sink=\"main\"} 102.15\n"
            "freshet_batch_duration_seconds_count{stage=\"build\",sink=\"main\"} 4\n");
}

TEST(MetricsRenderTest, HistogramWithoutLabelsExactly) {
  MetricsRegistry reg;
  Histogram& h = reg.GetHistogram("x_seconds", "X.", {0.5});
  h.Observe(0.25);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP x_seconds X.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.5\"} 1\n"
            "x_seconds_bucket{le=\"+Inf\"} 1\n"
            "x_seconds_sum 0.25\n"
            "x_seconds_count 1\n");
}

TEST(MetricsRenderTest, HistogramSnapshotIsCumulative) {
  Histogram h({1, 2, 3});
  for (double v : {0.5, 1.5, 1.5, 2.5, 2.5, 2.5, 9.0}) h.Observe(v);
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // lands in +Inf
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 3, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(MetricsRenderTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry reg;
  reg.GetGauge("g", "Help with \\ backslash,\nnewline and \"quotes\".", {{"path", "C:\\dir\n\"x\""}}).Set(1);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP g Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsRenderTest, InvalidUtf8InLabelValuesBecomesReplacementCharacters) {
  MetricsRegistry reg;
  reg.GetGauge("g", "G.", {{"k", std::string("a\xff" "b\xc3", 4)}, {"u", "caf\xc3\xa9"}}).Set(1);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{k=\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\",u=\"caf\xc3\xa9\"} 1\n");
}

TEST(MetricsFormatTest, ValuesAreShortestRoundTrip) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1), "1");
  EXPECT_EQ(FormatMetricValue(-2.5), "-2.5");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatMetricValue(123456789012.0), "123456789012");
  EXPECT_EQ(FormatMetricValue(9007199254740993.0), "9007199254740992");  // 2^53 + 1 is not a double
  EXPECT_EQ(FormatMetricValue(1e21), "1e+21");
  EXPECT_EQ(FormatMetricValue(1e-5), "1e-05");
  EXPECT_EQ(FormatMetricValue(inf), "+Inf");
  EXPECT_EQ(FormatMetricValue(-inf), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  for (double v : {0.001, 1.0 / 3, 6.02214076e23, 5e-324, 1.7976931348623157e308}) {
    EXPECT_EQ(std::strtod(FormatMetricValue(v).c_str(), nullptr), v) << FormatMetricValue(v);
  }
}

TEST(MetricsRenderTest, SpecialValuesInGauges) {
  MetricsRegistry reg;
  reg.GetGauge("g", "G.", {{"k", "inf"}}).Set(std::numeric_limits<double>::infinity());
  reg.GetGauge("g", "G.", {{"k", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  reg.GetGauge("g", "G.", {{"k", "neg"}}).Set(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP g G.\n# TYPE g gauge\n"
            "g{k=\"inf\"} +Inf\n"
            "g{k=\"nan\"} NaN\n"
            "g{k=\"neg\"} -Inf\n");
}

TEST(MetricsRenderTest, FamiliesSortedByNameChildrenByLabelValues) {
  MetricsRegistry reg;
  reg.GetGauge("zeta", "Z.").Set(1);
  reg.GetGauge("alpha", "A.", {{"b", "2"}, {"a", "x"}}).Set(3);
  reg.GetGauge("alpha", "A.", {{"b", "10"}, {"a", "y"}}).Set(4);
  // Same label names in another order: the same family, normalized to the first order.
  reg.GetGauge("alpha", "A.", {{"a", "z"}, {"b", "10"}}).Set(5);
  reg.GetCounter("mid_total", "M.").Inc();
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP alpha A.\n# TYPE alpha gauge\n"
            "alpha{b=\"10\",a=\"y\"} 4\n"
            "alpha{b=\"10\",a=\"z\"} 5\n"
            "alpha{b=\"2\",a=\"x\"} 3\n"
            "# HELP mid_total M.\n# TYPE mid_total counter\n"
            "mid_total 1\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\n"
            "zeta 1\n");
}

TEST(MetricsRegistryTest, SameChildIsReturnedTwice) {
  MetricsRegistry reg;
  Counter& a = reg.GetCounter("c_total", "C.", {{"k", "v"}, {"j", "w"}});
  Counter& b = reg.GetCounter("c_total", "other help is ignored", {{"j", "w"}, {"k", "v"}});
  Counter& other = reg.GetCounter("c_total", "C.", {{"k", "v2"}, {"j", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  a.Inc(2);
  b.Inc(3);
  EXPECT_EQ(a.value(), 5);
  Histogram& h1 = reg.GetHistogram("h_seconds", "H.", {1, 2});
  Histogram& h2 = reg.GetHistogram("h_seconds", "H.", {5});  // the first layout stays
  EXPECT_EQ(&h1, &h2);
  EXPECT_EQ(h2.bounds(), (std::vector<double>{1, 2}));
  Gauge& g = reg.GetGauge("g", "G.");
  EXPECT_EQ(&g, &reg.GetGauge("g", "G."));
  g.Set(4);
  g.Inc(0.5);
  g.Dec(2);
  EXPECT_EQ(g.value(), 2.5);
}

TEST(MetricsRegistryTest, CollectorsMergeIntoFamiliesByName) {
  MetricsRegistry reg;
  reg.GetCounter("req_total", "Requests.", {{"op", "get"}}).Inc(3);
  int runs = 0;
  reg.AddCollector([&runs](MetricsWriter& w) {
    ++runs;
    w.Counter("req_total", "ignored: the registered help wins", {{"op", "put"}}, 7);
    w.Gauge("aaa_gauge", "Collected first.", {{"src", "b"}}, 1);
    Histogram::Snapshot s;
    s.bounds = {1};
    s.cumulative = {2, 5};
    s.sum = 9.5;
    s.count = 5;
    w.Histogram("lat_seconds", "Latency.", {{"op", "get"}}, s);
  });
  reg.AddCollector([](MetricsWriter& w) { w.Gauge("aaa_gauge", "ignored: the first help wins", {{"src", "a"}}, 0); });
  const std::string expected =
      "# HELP aaa_gauge Collected first.\n# TYPE aaa_gauge gauge\n"
      "aaa_gauge{src=\"a\"} 0\n"
      "aaa_gauge{src=\"b\"} 1\n"
      "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
      "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 5\n"
      "lat_seconds_sum{op=\"get\"} 9.5\n"
      "lat_seconds_count{op=\"get\"} 5\n"
      "# HELP req_total Requests.\n# TYPE req_total counter\n"
      "req_total{op=\"get\"} 3\n"
      "req_total{op=\"put\"} 7\n";
  EXPECT_EQ(reg.RenderPrometheus(), expected);
  EXPECT_EQ(reg.RenderPrometheus(), expected);
  EXPECT_EQ(runs, 2) << "collectors run at every render";
}

TEST(MetricsRegistryTest, CollectorDuplicatesAndBadNamesAreDropped) {
  MetricsRegistry reg;
  reg.GetCounter("req_total", "Requests.", {{"op", "get"}}).Inc(3);
  reg.AddCollector([](MetricsWriter& w) { w.Counter("req_total", "R.", {{"op", "get"}}, 100); });
  EXPECT_DEBUG_DEATH(
      {
        EXPECT_EQ(reg.RenderPrometheus(),
                  "# HELP req_total Requests.\n# TYPE req_total counter\nreq_total{op=\"get\"} 3\n");
      },
      "twice");
  MetricsRegistry reg2;
  reg2.AddCollector([](MetricsWriter& w) { w.Counter("no_suffix", "N.", {}, 1); });
  EXPECT_DEBUG_DEATH({ EXPECT_EQ(reg2.RenderPrometheus(), ""); }, "_total");
  MetricsRegistry reg3;
  reg3.AddCollector([](MetricsWriter& w) { w.Gauge("g", "G.", {{"le", "1"}}, 1); });
  EXPECT_DEBUG_DEATH({ EXPECT_EQ(reg3.RenderPrometheus(), ""); }, "label name");
}

TEST(MetricsRegistryTest, CollectorValuesAreReadAtRenderTime) {
  MetricsRegistry reg;
  double lag = 1;
  reg.AddCollector([&lag](MetricsWriter& w) { w.Gauge("lag_seconds", "Lag.", {}, lag); });
  EXPECT_EQ(reg.RenderPrometheus(), "# HELP lag_seconds Lag.\n# TYPE lag_seconds gauge\nlag_seconds 1\n");
  lag = 4.25;
  EXPECT_EQ(reg.RenderPrometheus(), "# HELP lag_seconds Lag.\n# TYPE lag_seconds gauge\nlag_seconds 4.25\n");
}

TEST(MetricsRegistryTest, CollectorSampleOfAnotherTypeIsDropped) {
  MetricsRegistry reg;
  reg.GetGauge("g", "G.").Set(1);
  reg.AddCollector([](MetricsWriter& w) {
    Histogram::Snapshot s;
    s.cumulative = {1};
    s.count = 1;
    w.Histogram("g", "G.", {}, s);
  });
  EXPECT_DEBUG_DEATH(
      { EXPECT_EQ(reg.RenderPrometheus(), "# HELP g G.\n# TYPE g gauge\ng 1\n"); }, "two types");
}

TEST(MetricsRegistryTest, MisuseKeepsTheFirstRegistration) {
  MetricsRegistry reg;
  reg.GetCounter("c_total", "C.", {{"k", "v"}}).Inc();
  EXPECT_DEBUG_DEATH(reg.GetGauge("c_total", "as a gauge").Set(5), "misuse");
  EXPECT_DEBUG_DEATH(reg.GetCounter("c_total", "C.", {{"other", "v"}}).Inc(9), "misuse");
  EXPECT_DEBUG_DEATH(reg.GetCounter("no_suffix", "C.").Inc(), "misuse");
  EXPECT_DEBUG_DEATH(reg.GetGauge("bad-name", "B.").Set(1), "misuse");
  EXPECT_DEBUG_DEATH(reg.GetGauge("g", "G.", {{"le", "1"}}).Set(1), "misuse");
#ifdef NDEBUG
  // The misused calls got working objects that are never exported, and the
  // same one each time.
  Gauge& orphan = reg.GetGauge("c_total", "as a gauge");
  EXPECT_EQ(orphan.value(), 5);
  EXPECT_EQ(&orphan, &reg.GetGauge("c_total", "again"));
  EXPECT_EQ(reg.RenderPrometheus(), "# HELP c_total C.\n# TYPE c_total counter\nc_total{k=\"v\"} 1\n");
#endif
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAndRendersAddUp) {
  MetricsRegistry reg;
  constexpr int kThreads = 4;
  constexpr int kIterations = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&reg, t] {
      // Every thread asks for the children itself: creation races too.
      Counter& c = reg.GetCounter("ops_total", "Ops.", {{"kind", "shared"}});
      Counter& mine = reg.GetCounter("ops_total", "Ops.", {{"kind", "t" + std::to_string(t)}});
      Gauge& g = reg.GetGauge("inflight", "In flight.");
      Histogram& h = reg.GetHistogram("op_seconds", "Op time.", {0.25, 1});
      for (int i = 0; i < kIterations; ++i) {
        c.Inc();
        mine.Inc(0.5);
        g.Inc(2);
        g.Dec(2);
        h.Observe(i % 2 == 0 ? 0.5 : 2);  // exact in binary: the sum has no rounding
      }
    });
  }
  threads.emplace_back([&reg] {
    // Renders race with the first registrations: an early one may see no
    // family at all (empty), never a torn line.
    for (int i = 0; i < 50; ++i) {
      const std::string text = reg.RenderPrometheus();
      EXPECT_TRUE(text.empty() || text.back() == '\n') << text;
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(reg.GetCounter("ops_total", "Ops.", {{"kind", "shared"}}).value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(reg.GetCounter("ops_total", "Ops.", {{"kind", "t" + std::to_string(t)}}).value(), kIterations * 0.5);
  EXPECT_EQ(reg.GetGauge("inflight", "In flight.").value(), 0);
  Histogram::Snapshot s = reg.GetHistogram("op_seconds", "Op time.", {0.25, 1}).snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kIterations));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, kThreads * kIterations / 2, kThreads * kIterations}));
  EXPECT_EQ(s.sum, kThreads * (kIterations / 2) * 2.5);
}

TEST(MetricsNameTest, MetricAndLabelNames) {
  for (const char* ok : {"a", "_x", "freshet_batches_total", "ns:rule_total", "A9_b"})
    EXPECT_TRUE(IsValidMetricName(ok)) << ok;
  for (const char* bad : {"", "9a", "a-b", "a b", "a.b", "\xc3\xa9"}) EXPECT_FALSE(IsValidMetricName(bad)) << bad;
  for (const char* ok : {"a", "_x", "store", "Op9", "_le", "lex"}) EXPECT_TRUE(IsValidLabelName(ok)) << ok;
  for (const char* bad : {"", "9a", "a:b", "a-b", "le", "__name__", "__x"})
    EXPECT_FALSE(IsValidLabelName(bad)) << bad;
}

TEST(MetricsBucketsTest, ExponentialAndLinear) {
  EXPECT_EQ(ExponentialBuckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
  EXPECT_EQ(ExponentialBuckets(1, 10, 1), (std::vector<double>{1}));
  EXPECT_EQ(LinearBuckets(0, 0.1, 4), (std::vector<double>{0, 0.1, 0.2, 0.30000000000000004}));
  EXPECT_EQ(LinearBuckets(5, 5, 3), (std::vector<double>{5, 10, 15}));
}

TEST(MetricsRegistryTest, ContentTypeIsTheTextFormat) {
  EXPECT_EQ(kPrometheusContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace freshet
