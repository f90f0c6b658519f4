// Private to src/metrics: the Prometheus text exposition (format 0.0.4)
// built at render time. The registry writes its families into it first,
// then each collector; samples merge into families by name. Rules
// (metrics.h states them for users):
// - the first writer of a name fixes the family's type, help and label
//   names; a later sample with another type or other label names, an
//   invalid name, a counter not ending in "_total" (or a non-counter that
//   does), or a child already written, is dropped (assert in debug builds:
//   a collector bug);
// - Render() sorts families by name and children by label values.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "metrics/metrics.h"

namespace freshet::metrics_internal {

class Exposition final : public MetricsWriter {
 public:
  void Counter(std::string_view name, std::string_view help, const MetricLabels& labels, double value) override;
  void Gauge(std::string_view name, std::string_view help, const MetricLabels& labels, double value) override;
  void Histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                 const Histogram::Snapshot& snapshot) override;

  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  using Value = std::variant<double, Histogram::Snapshot>;
  struct Family {
    Type type;
    std::string help;
    std::vector<std::string> label_names;
    std::map<std::vector<std::string>, Value> children;  // by label values, in label_names' order
  };

  void Add(Type type, std::string_view name, std::string_view help, const MetricLabels& labels, Value value);

  std::map<std::string, Family, std::less<>> families_;
};

// Label-value escaping (\\, \", \n); invalid UTF-8 becomes U+FFFD so one
// bad byte cannot make the whole scrape unparsable.
std::string EscapeLabelValue(std::string_view v);
// HELP escaping: only \\ and \n (the format has no \" in HELP text).
std::string EscapeHelp(std::string_view help);

}  // namespace freshet::metrics_internal
