#include "plan/merge_policy.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

namespace freshet {
namespace {

// 15 hex digits of XXH64: ids stay as long as a batch's ("-m" + 15).
std::string Hex15(const std::string& s) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH64(s.data(), s.size(), 0)));
  return std::string(buf + 1, 15);
}

}  // namespace

namespace {

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= (uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1 << 30));
  } else if (n >= (uint64_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else if (n >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  }
  return buf;
}

std::string FormatRatio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

}  // namespace

Status ValidateMergePolicy(const MergePolicyOptions& o) {
  if (o.merge_factor < 2) {
    return Status::InvalidArgument("merge_factor must be at least 2, got " + std::to_string(o.merge_factor));
  }
  if (!(o.size_ratio > 0.0)) return Status::InvalidArgument("size_ratio must be positive");
  if (o.max_segments < o.merge_factor) {
    return Status::InvalidArgument("max_segments (" + std::to_string(o.max_segments) +
                                   ") must be at least merge_factor (" + std::to_string(o.merge_factor) + ")");
  }
  return Status::Ok();
}

std::optional<MergeChoice> ChooseMerge(const std::vector<uint64_t>& sizes, const MergePolicyOptions& o) {
  const size_t n = sizes.size();
  std::vector<uint64_t> floored(n);
  for (size_t i = 0; i < n; ++i) floored[i] = std::max(sizes[i], o.floor_bytes);

  // From each start, newest first: extend the run to older segments while
  // the next older one is at most size_ratio times the run so far.
  const size_t k = o.merge_factor;
  for (size_t end = n; end >= k; --end) {
    uint64_t run = floored[end - 1];
    size_t begin = end - 1;
    while (begin > 0 && static_cast<double>(floored[begin - 1]) <= o.size_ratio * static_cast<double>(run)) {
      --begin;
      run += floored[begin];
    }
    if (end - begin >= k) {
      return MergeChoice{begin, end,
                         "tiered: " + std::to_string(end - begin) + " segments, each at most " +
                             FormatRatio(o.size_ratio) + "x the newer ones together (" + Bytes(run) + ")"};
    }
  }
  if (n > o.max_segments) {
    const size_t run = std::min(k, n);
    size_t best = 0;
    uint64_t best_total = UINT64_MAX;
    for (size_t begin = 0; begin + run <= n; ++begin) {
      uint64_t total = 0;
      for (size_t i = begin; i < begin + run; ++i) total += sizes[i];
      if (total < best_total) {
        best_total = total;
        best = begin;
      }
    }
    return MergeChoice{best, best + run,
                       "cap: " + std::to_string(n) + " segments > max_segments " + std::to_string(o.max_segments) +
                           "; the smallest adjacent " + std::to_string(run) + " (" + Bytes(best_total) + ")"};
  }
  return std::nullopt;
}

std::string MergedSegmentId(const std::vector<std::string>& run) {
  std::string joined;
  for (const std::string& id : run) {
    joined.append(id);
    joined.push_back('\n');
  }
  // "delta/<stamp>-<hex>": keep the newest member's stamp, so ids still
  // sort by age.
  const std::string& last = run.back();
  const size_t slash = last.find('/');
  const size_t dash = last.find('-', slash == std::string::npos ? 0 : slash);
  const std::string stamp =
      slash == std::string::npos || dash == std::string::npos ? "merged" : last.substr(slash + 1, dash - slash - 1);
  return "delta/" + stamp + "-m" + Hex15(joined);
}

}  // namespace freshet
