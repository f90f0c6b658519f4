// The exposition as Prometheus's own checker reads it: `promtool check
// metrics` must parse a registry holding every kind of metric and value
// and print nothing (no lint warning either). A hand-written bad
// exposition must make it complain, so the check is known to be live.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <limits>
#include <string>

#include "metrics/metrics.h"
#include "metrics/process_stats.h"
#include "testing/background_process.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

std::string Promtool() {
  if (access("/usr/bin/promtool", X_OK) == 0) return "/usr/bin/promtool";
  return testing::FindInPath("promtool");
}

// Runs `promtool check metrics < text`; stdout and stderr are in the result.
testing::CommandResult Check(const std::string& text) {
  testing::TempDir dir("promtool");
  const std::string path = dir.Join("metrics.txt");
  std::ofstream(path, std::ios::binary) << text;
  testing::ProcessOptions o;
  o.argv = {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", Promtool(), path};
  return testing::RunCommand(o, std::chrono::seconds(60));
}

class PromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Promtool().empty())
        << "promtool not found (Debian package 'prometheus'): run scripts/install-deps.sh test";
  }
};

TEST_F(PromtoolTest, AcceptsEveryKindWithoutAWarning) {
  MetricsRegistry reg;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  reg.GetCounter("freshet_batches_total", "Batches by outcome.", {{"outcome", "committed"}}).Inc(41);
  reg.GetCounter("freshet_batches_total", "Batches by outcome.", {{"outcome", "failed"}}).Inc(0.5);
  reg.GetCounter("freshet_bare_total", "A counter without labels.").Inc();
  reg.GetGauge("freshet_odd_labels", "Label values with \"quotes\", a \\ backslash\nand a newline.",
               {{"value", "quote \" backslash \\ newline \n end"}, {"unicode", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x8c\x8a"}})
      .Set(1);
  reg.GetGauge("freshet_odd_labels", "", {{"value", ""}, {"unicode", ""}}).Set(2);  // empty values
  reg.GetGauge("freshet_odd_labels", "", {{"value", std::string("bad \xff utf8")}, {"unicode", "x"}}).Set(3);
  reg.GetGauge("freshet_special_values", "Infinities and NaN.", {{"kind", "pos"}}).Set(inf);
  reg.GetGauge("freshet_special_values", "", {{"kind", "neg"}}).Set(-inf);
  reg.GetGauge("freshet_special_values", "", {{"kind", "nan"}}).Set(nan);
  reg.GetGauge("freshet_special_values", "", {{"kind", "tiny"}}).Set(5e-324);
  reg.GetGauge("freshet_special_values", "", {{"kind", "huge"}}).Set(1.7976931348623157e308);
  reg.GetGauge("freshet_lag_seconds", "No labels at all.").Set(0.125);
  Histogram& h = reg.GetHistogram("freshet_batch_duration_seconds", "Batch time by stage.",
                                  ExponentialBuckets(0.001, 2, 16), {{"stage", "build"}, {"sink", "s\"3"}});
  for (double v : {0.0005, 0.01, 0.5, 3.0, 100.0}) h.Observe(v);
  reg.GetHistogram("freshet_batch_duration_seconds", "", ExponentialBuckets(0.001, 2, 16),
                   {{"stage", "upload"}, {"sink", "local"}});  // no observations
  reg.GetHistogram("freshet_record_bytes", "No labels.", LinearBuckets(100, 100, 5)).Observe(250);
  reg.AddCollector([](MetricsWriter& w) {
    w.Counter("freshet_batches_total", "merged", {{"outcome", "collected"}}, 3);
    w.Gauge("freshet_collected_info", "From a collector.", {{"version", "1.2.3"}, {"commit", "abc"}}, 1);
    Histogram::Snapshot s;
    s.bounds = {0.5, 1};
    s.cumulative = {1, 1, 2};
    s.sum = 2.25;
    s.count = 2;
    w.Histogram("freshet_collected_seconds", "A collected histogram.", {}, s);
  });
  AddProcessCollector(reg);
  const std::string text = reg.RenderPrometheus();
  testing::CommandResult r = Check(text);
  EXPECT_TRUE(r.Ok()) << r.Describe() << "\n" << text;
  EXPECT_EQ(r.out, "") << text;
  EXPECT_EQ(r.err, "") << text;
  // The test covered what it says.
  for (const char* part : {"le=\"+Inf\"", "NaN", "+Inf", "-Inf", "\\\"", "\\\\", "\\n", "\xf0\x9f\x8c\x8a",
                           "\xEF\xBF\xBD", "process_cpu_seconds_total", "outcome=\"collected\"",
                           "freshet_lag_seconds 0.125"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part;
  }
}

TEST_F(PromtoolTest, ComplainsAboutAHandWrittenBadExposition) {
  // A counter without _total: a lint warning, exit status non-zero.
  testing::CommandResult lint = Check(
      "# HELP freshet_batches Batches.\n"
      "# TYPE freshet_batches counter\n"
      "freshet_batches 1\n");
  EXPECT_FALSE(lint.Ok()) << lint.Describe();
  EXPECT_NE((lint.out + lint.err).find("_total"), std::string::npos) << lint.out << lint.err;
  // \" in HELP is not an escape of the format: a parse error.
  testing::CommandResult parse = Check(
      "# HELP g G \\\"q\\\".\n"
      "# TYPE g gauge\n"
      "g 1\n");
  EXPECT_FALSE(parse.Ok()) << parse.Describe();
  EXPECT_NE((parse.out + parse.err).find("escape"), std::string::npos) << parse.out << parse.err;
}

}  // namespace
}  // namespace freshet
