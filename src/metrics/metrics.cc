// Counter, Gauge, Histogram and the registry's families. The text itself is
// written by prometheus_text.cc from the snapshot built here.
#include "metrics/metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <optional>

#include "metrics/prometheus_text.h"

namespace freshet {

void Counter::Inc(double v) {
  assert(v >= 0 && "counters only go up");
  if (!(v >= 0)) return;  // release: a negative or NaN increment is dropped, the counter stays monotonic
  value_.fetch_add(v, std::memory_order_relaxed);
}

void Gauge::Inc(double v) { value_.fetch_add(v, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()) &&
         std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end() && "bounds strictly increasing");
  assert(std::all_of(bounds_.begin(), bounds_.end(), [](double b) { return std::isfinite(b); }));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // The first bound >= v ("le" is inclusive); NaN and values above the last
  // bound land in the implied +Inf bucket.
  size_t i = std::isnan(v) ? bounds_.size()
                           : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_release);
}

Histogram::Snapshot Histogram::snapshot() const {
  // count_ is bumped last in Observe: a pass that sees the same count
  // before and after, matching the buckets' total, saw no Observe half
  // done. Under constant contention give up after a few passes and take
  // the buckets' total as the count, so _count always equals the +Inf
  // bucket (the sum may then miss or include an in-flight observation).
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  for (int pass = 0; pass < 8; ++pass) {
    const uint64_t before = count_.load(std::memory_order_acquire);
    uint64_t total = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      total += buckets_[i].load(std::memory_order_relaxed);
      s.cumulative[i] = total;
    }
    s.sum = sum_.load(std::memory_order_relaxed);
    s.count = total;
    if (count_.load(std::memory_order_acquire) == before && total == before) break;
  }
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  assert(start > 0 && factor > 1 && count >= 1);
  std::vector<double> b;
  b.reserve(count);
  double v = start;
  for (size_t i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::vector<double> LinearBuckets(double start, double width, size_t count) {
  assert(width > 0 && count >= 1);
  std::vector<double> b;
  b.reserve(count);
  // start + i * width, not a running sum: no accumulated rounding (0.1 * 3).
  for (size_t i = 0; i < count; ++i) b.push_back(start + static_cast<double>(i) * width);
  return b;
}

// ---------------------------------------------------------------------------
// The registry.

namespace {

enum class Kind { kCounter, kGauge, kHistogram };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kCounter: return "counter";
    case Kind::kGauge: return "gauge";
    case Kind::kHistogram: return "histogram";
  }
  return "?";
}

// One registered family. Children are keyed by their label values, in the
// order of `label_names` (fixed by the first call).
struct Family {
  Kind kind = Kind::kCounter;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms
  std::map<std::vector<std::string>, std::unique_ptr<Counter>> counters;
  std::map<std::vector<std::string>, std::unique_ptr<Gauge>> gauges;
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> histograms;
};

std::vector<std::string> Names(const MetricLabels& labels) {
  std::vector<std::string> names;
  names.reserve(labels.size());
  for (const auto& [name, value] : labels) names.push_back(name);
  return names;
}

// The values of `labels` in the order of `names`, or nullopt when the two
// do not name the same labels (any order is accepted).
std::optional<std::vector<std::string>> ValuesInOrder(const std::vector<std::string>& names,
                                                      const MetricLabels& labels) {
  if (names.size() != labels.size()) return std::nullopt;
  std::vector<std::string> values;
  values.reserve(names.size());
  for (const std::string& name : names) {
    auto it = std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.first == name; });
    if (it == labels.end()) return std::nullopt;
    values.push_back(it->second);
  }
  return values;
}

// Why a family could not be registered as asked, or "" when it can.
std::string Misuse(Kind kind, std::string_view name, const MetricLabels& labels) {
  if (!IsValidMetricName(name)) return "invalid metric name";
  if (kind == Kind::kCounter && !name.ends_with("_total")) return "a counter's name must end in _total";
  if (kind != Kind::kCounter && name.ends_with("_total")) return "only counters' names end in _total";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!IsValidLabelName(labels[i].first)) return "invalid label name \"" + labels[i].first + "\"";
    for (size_t j = 0; j < i; ++j)
      if (labels[j].first == labels[i].first) return "label \"" + labels[i].first + "\" given twice";
  }
  return "";
}

}  // namespace

struct MetricsRegistry::Impl {
  std::mutex mu;  // family and child creation; the snapshot half of a render
  std::map<std::string, Family, std::less<>> families;
  // Misused calls (bad name, second type, other label names) get working
  // objects that are never rendered, one per distinct misuse, so a release
  // build keeps running with the first registration intact.
  std::map<std::string, Family, std::less<>> orphans;
  std::vector<std::shared_ptr<const std::function<void(MetricsWriter&)>>> collectors;

  std::mutex render_mu;  // one render at a time: collectors never run concurrently

  // The family `name` may add a child of `kind` with `labels` to, and the
  // child's key; an orphan family when the call is a misuse.
  // REQUIRES: mu held.
  std::pair<Family*, std::vector<std::string>> Find(Kind kind, std::string_view name, std::string_view help,
                                                    const MetricLabels& labels, const std::vector<double>* bounds) {
    std::string problem = Misuse(kind, name, labels);
    auto it = families.find(name);
    if (problem.empty() && it == families.end()) {
      Family f;
      f.kind = kind;
      f.help = std::string(help);
      f.label_names = Names(labels);
      if (bounds) f.bounds = *bounds;
      it = families.emplace(std::string(name), std::move(f)).first;
    }
    if (problem.empty()) {
      Family& f = it->second;
      if (f.kind != kind) {
        problem = "already registered as a ";
        problem += KindName(f.kind);
      } else if (auto values = ValuesInOrder(f.label_names, labels)) {
        return {&f, std::move(*values)};
      } else {
        problem = "label names differ from the first registration's";
      }
    }
    assert(false && "metrics registry misuse (see the log)");
    std::string key(name);
    key += '\x01';
    key += KindName(kind);
    for (const auto& [label, value] : labels) {
      key += '\x01';
      key += label;
    }
    auto [orphan, added] = orphans.try_emplace(key);
    if (added) {
      spdlog::warn("metrics: {} {}: {}; its values are not exported", KindName(kind), name, problem);
      orphan->second.kind = kind;
      orphan->second.label_names = Names(labels);
      if (bounds) orphan->second.bounds = *bounds;
    }
    std::vector<std::string> values;
    for (const auto& [label, value] : labels) values.push_back(value);
    return {&orphan->second, std::move(values)};
  }
};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(impl_->mu);
  auto [family, key] = impl_->Find(Kind::kCounter, name, help, labels, nullptr);
  auto& child = family->counters[std::move(key)];
  if (!child) child = std::make_unique<Counter>();
  return *child;
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(impl_->mu);
  auto [family, key] = impl_->Find(Kind::kGauge, name, help, labels, nullptr);
  auto& child = family->gauges[std::move(key)];
  if (!child) child = std::make_unique<Gauge>();
  return *child;
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds, const MetricLabels& labels) {
  std::lock_guard lock(impl_->mu);
  auto [family, key] = impl_->Find(Kind::kHistogram, name, help, labels, &bounds);
  auto& child = family->histograms[std::move(key)];
  if (!child) child = std::make_unique<Histogram>(family->bounds);
  return *child;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter&)> collector) {
  auto shared = std::make_shared<const std::function<void(MetricsWriter&)>>(std::move(collector));
  std::lock_guard lock(impl_->mu);
  impl_->collectors.push_back(std::move(shared));
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard render_lock(impl_->render_mu);
  metrics_internal::Exposition out;
  std::vector<std::shared_ptr<const std::function<void(MetricsWriter&)>>> collectors;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& family : impl_->families) {
      // Not a structured binding: clang 14 cannot capture one in a lambda.
      const std::string& name = family.first;
      const auto& f = family.second;
      auto labels_of = [&](const std::vector<std::string>& values) {
        MetricLabels labels;
        for (size_t i = 0; i < values.size(); ++i) labels.emplace_back(f.label_names[i], values[i]);
        return labels;
      };
      for (const auto& [values, c] : f.counters) out.Counter(name, f.help, labels_of(values), c->value());
      for (const auto& [values, g] : f.gauges) out.Gauge(name, f.help, labels_of(values), g->value());
      for (const auto& [values, h] : f.histograms) out.Histogram(name, f.help, labels_of(values), h->snapshot());
    }
    collectors = impl_->collectors;
  }
  // Outside `mu`: a slow collector (a store's stats lock) never holds up
  // a GetCounter on another thread.
  for (const auto& collect : collectors) (*collect)(out);
  return out.Render();
}

}  // namespace freshet
