// The Prometheus text exposition format 0.0.4: names, values, escaping and
// the layout of families, children and histogram series.
#include "metrics/prometheus_text.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

#include "base/utf8.h"

namespace freshet {
namespace {

bool IsNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool IsNameChar(char c, bool colon) { return IsNameStart(c, colon) || (c >= '0' && c <= '9'); }

// Bytes in the UTF-8 sequence a lead byte starts; 0 for a byte that cannot
// start one.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// `s` with every ill-formed sequence replaced by U+FFFD.
std::string ValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(static_cast<unsigned char>(s[i]));
    if (n != 0 && i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0], true)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c, true); });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0], false)) return false;
  if (name == "le" || name.starts_with("__")) return false;  // "le" is the histograms'; "__*" Prometheus's own
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c, false); });
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back as `v`
  assert(ec == std::errc());
  (void)ec;
  return std::string(buf, end);
}

namespace metrics_internal {

std::string EscapeLabelValue(std::string_view v) {
  std::string valid = ValidUtf8(v);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string valid = ValidUtf8(help);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Exposition::Counter(std::string_view name, std::string_view help, const MetricLabels& labels, double value) {
  Add(Type::kCounter, name, help, labels, value);
}

void Exposition::Gauge(std::string_view name, std::string_view help, const MetricLabels& labels, double value) {
  Add(Type::kGauge, name, help, labels, value);
}

void Exposition::Histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                           const Histogram::Snapshot& snapshot) {
  assert(snapshot.cumulative.size() == snapshot.bounds.size() + 1);
  if (snapshot.cumulative.size() != snapshot.bounds.size() + 1) return;
  Add(Type::kHistogram, name, help, labels, snapshot);
}

void Exposition::Add(Type type, std::string_view name, std::string_view help, const MetricLabels& labels,
                     Value value) {
  bool ok = IsValidMetricName(name) && (type == Type::kCounter) == name.ends_with("_total");
  for (size_t i = 0; ok && i < labels.size(); ++i) {
    ok = IsValidLabelName(labels[i].first);
    for (size_t j = 0; ok && j < i; ++j) ok = labels[j].first != labels[i].first;
  }
  assert(ok && "invalid metric or label name, or a counter without _total");
  if (!ok) return;
  auto it = families_.find(name);
  if (it == families_.end()) {
    Family f{type, std::string(help), {}, {}};
    for (const auto& [label, v] : labels) f.label_names.push_back(label);
    it = families_.emplace(std::string(name), std::move(f)).first;
  }
  Family& f = it->second;
  if (f.type != type) {
    assert(!"one metric name written with two types");
    return;
  }
  if (f.label_names.size() != labels.size()) {
    assert(!"one metric name written with two label-name sets");
    return;
  }
  std::vector<std::string> values;
  values.reserve(labels.size());
  for (const std::string& label : f.label_names) {
    auto l = std::find_if(labels.begin(), labels.end(), [&](const auto& p) { return p.first == label; });
    if (l == labels.end()) {
      assert(!"one metric name written with two label-name sets");
      return;
    }
    values.push_back(l->second);
  }
  [[maybe_unused]] bool added = f.children.emplace(std::move(values), std::move(value)).second;
  assert(added && "one child written twice");
}

namespace {

// `{a="x",b="y"` without the closing brace (so a histogram can append
// its le), or "" for no labels.
std::string OpenLabels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    s += i == 0 ? "{" : ",";
    s += names[i];
    s += "=\"";
    s += EscapeLabelValue(values[i]);
    s += '"';
  }
  return s;
}

void Line(std::string& out, std::string_view name, std::string_view suffix, const std::string& open_labels,
          std::string_view value) {
  out += name;
  out += suffix;
  if (!open_labels.empty()) {
    out += open_labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string Exposition::Render() const {
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += EscapeHelp(f.help);
    out += "\n# TYPE ";
    out += name;
    out += f.type == Type::kCounter ? " counter\n" : f.type == Type::kGauge ? " gauge\n" : " histogram\n";
    for (const auto& [values, value] : f.children) {
      std::string labels = OpenLabels(f.label_names, values);
      if (const double* v = std::get_if<double>(&value)) {
        Line(out, name, "", labels, FormatMetricValue(*v));
        continue;
      }
      const auto& h = std::get<Histogram::Snapshot>(value);
      std::string bucket_labels = labels;
      bucket_labels += labels.empty() ? '{' : ',';
      for (size_t i = 0; i < h.cumulative.size(); ++i) {
        std::string le = bucket_labels;
        le += "le=\"";
        le += i < h.bounds.size() ? FormatMetricValue(h.bounds[i]) : "+Inf";
        le += '"';
        Line(out, name, "_bucket", le, std::to_string(h.cumulative[i]));
      }
      Line(out, name, "_sum", labels, FormatMetricValue(h.sum));
      Line(out, name, "_count", labels, std::to_string(h.count));
    }
  }
  return out;
}

}  // namespace metrics_internal
}  // namespace freshet
