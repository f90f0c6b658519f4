// Metrics for the admin endpoint's /metrics: counters, gauges and
// histograms with labels, rendered in the Prometheus text exposition format
// (version 0.0.4). Pure, Asio-free, thread-safe.
//
//   MetricsRegistry reg;
//   Counter& committed = reg.GetCounter("freshet_batches_total", "Batches by outcome.", {{"outcome", "committed"}});
//   committed.Inc();
//   Histogram& h = reg.GetHistogram("freshet_batch_duration_seconds", "...", ExponentialBuckets(0.001, 2, 20));
//   h.Observe(0.25);
//   reg.AddCollector([](MetricsWriter& w) { w.Gauge("process_open_fds", "Open file descriptors.", {}, 12); });
//   std::string text = reg.RenderPrometheus();
//
// Contracts:
// - A family is one metric name with one type, one help text and (for
//   histograms) one bucket layout; its children differ by label values.
//   Asking for an existing child returns the same object; the references
//   stay valid for the registry's lifetime. Updates are lock-free atomics,
//   so the hot path (a batch finishing, a store call) never waits on a scrape.
// - Names follow Prometheus conventions and are checked in debug builds
//   (assert) and by the tests: [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in
//   "_total", label names [a-zA-Z_][a-zA-Z0-9_]* and never "le" or "__*".
//   Using one name with two types or two label-name sets is a programming
//   error (assert); release builds keep the first and ignore the rest: a
//   misused Get* returns a working object that is never rendered (and
//   logs a warning once). Label names may come in any order; a family
//   keeps its first call's order in the output.
// - Collectors run at every render, on the rendering thread, in the order
//   added; they report values computed at scrape time (process stats,
//   store counters kept elsewhere, a freshness lag that grows between
//   batches). Samples they write merge into families by name with the
//   registered ones (the first writer fixes type, help and label names; a
//   sample of another type, with other label names, or for a child
//   already written is dropped, assert in debug builds); a collector must
//   not call back into the registry. Renders are serialized, so a
//   collector never runs concurrently with itself; they run without the
//   registry's creation lock held.
// - Output: families sorted by name, each with one "# HELP" and one
//   "# TYPE" line, children sorted by label values; label values escaped
//   per the format (\\, \", \n), help text too (\\, \n: the format has no
//   \" in HELP), invalid UTF-8 in either replaced by U+FFFD so one bad
//   byte cannot spoil the scrape; values printed exactly
//   (shortest round-trip form, "+Inf", "-Inf", "NaN"). Histograms print
//   cumulative _bucket{le=...} lines ending with le="+Inf", then _sum and
//   _count. `promtool check metrics` accepts the output without a warning.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;  // name, value

class Counter {
 public:
  // REQUIRES: v >= 0 (counters only go up).
  void Inc(double v = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1);
  void Dec(double v = 1) { Inc(-v); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing, finite; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;      // without +Inf
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries, the last = count
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket (not cumulative), bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// start, start*factor, ... (count bounds). REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);
// start, start+width, ... (count bounds). REQUIRES: width > 0, count >= 1.
std::vector<double> LinearBuckets(double start, double width, size_t count);

// What collectors write into at render time.
class MetricsWriter {
 public:
  virtual ~MetricsWriter() = default;
  virtual void Counter(std::string_view name, std::string_view help, const MetricLabels& labels, double value) = 0;
  virtual void Gauge(std::string_view name, std::string_view help, const MetricLabels& labels, double value) = 0;
  virtual void Histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                         const Histogram::Snapshot& snapshot) = 0;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& GetCounter(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  // The bucket layout is fixed by the first call for a name.
  Histogram& GetHistogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                          const MetricLabels& labels = {});

  void AddCollector(std::function<void(MetricsWriter&)> collector);

  // The whole exposition, "text/plain; version=0.0.4" (kPrometheusContentType).
  std::string RenderPrometheus() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Checks used by the registry (and its tests).
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);
// Prometheus float text: shortest round-trip, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double v);

}  // namespace freshet
