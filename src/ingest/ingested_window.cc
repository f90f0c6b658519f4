#include "ingest/ingested_window.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>

#include "ingest/record_projection.h"

namespace freshet {

WindowDiff IngestedWindow::Diff(const std::vector<ObjectInfo>& window) const {
  std::vector<ObjectInfo> sorted = window;
  std::sort(sorted.begin(), sorted.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  WindowDiff d;
  auto held = held_.begin();
  for (const ObjectInfo& o : sorted) {
    for (; held != held_.end() && held->first < o.key; ++held) d.removed.push_back(held->second.info);
    if (held != held_.end() && held->first == o.key) {
      if (held->second.info.etag != o.etag || held->second.info.size != o.size) {
        d.removed.push_back(held->second.info);  // rewritten: the old version leaves, the new one comes
        d.fetch.push_back(o);
      }
      ++held;
    } else {
      d.fetch.push_back(o);
    }
  }
  for (; held != held_.end(); ++held) d.removed.push_back(held->second.info);
  return d;
}

SourceChanges ClassifyChanges(const WindowDiff& diff, const PartitionOfKey& partition_of, TimePoint window_start,
                              std::optional<TimePoint> committed_through) {
  SourceChanges c;
  std::set<std::string_view> fetched, dropped;
  for (const ObjectInfo& o : diff.fetch) fetched.insert(o.key);
  for (const ObjectInfo& o : diff.removed) dropped.insert(o.key);
  auto note = [](std::string* first, const std::string& key) {
    if (first->empty()) *first = key;
  };
  for (const ObjectInfo& o : diff.fetch) {
    if (dropped.contains(o.key)) {
      ++c.rewritten;
      note(&c.first_changed, o.key);
      continue;
    }
    const std::optional<TimePoint> t = partition_of(o.key);
    if (t && committed_through && *t <= *committed_through) {
      ++c.late;
      note(&c.first_late, o.key);
    }
  }
  for (const ObjectInfo& o : diff.removed) {
    if (fetched.contains(o.key)) continue;
    const std::optional<TimePoint> t = partition_of(o.key);
    if (t && *t >= window_start) {
      ++c.vanished;
      note(&c.first_changed, o.key);
    }
  }
  return c;
}

void IngestedWindow::Drop(const std::string& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  state_.RemoveObject(key);
  records_total_ -= it->second.records_total;
  bytes_ -= it->second.info.size;
  held_.erase(it);
}

void IngestedWindow::Apply(const WindowDiff& diff, DecodedInput decoded) {
  for (const ObjectInfo& o : diff.removed) Drop(o.key);
  // Records and quarantine entries name their object (`source`). An
  // object's records come as one run (DecodeAndParse parses object by
  // object), so each object's vector is made at its exact size and every
  // record moves once; runs of one object that are not adjacent still work.
  struct Runs {
    size_t count = 0;
    std::vector<std::pair<size_t, size_t>> ranges;  // [begin, end) in decoded.records
  };
  std::unordered_map<std::string, Runs> runs;
  for (size_t i = 0; i < decoded.records.size();) {
    size_t j = i + 1;
    while (j < decoded.records.size() && decoded.records[j].source == decoded.records[i].source) ++j;
    Runs& r = runs[decoded.records[i].source];
    r.count += j - i;
    r.ranges.emplace_back(i, j);
    i = j;
  }
  std::unordered_map<std::string, std::vector<QuarantineEntry>> bad;
  for (QuarantineEntry& e : decoded.bad) bad[e.source].push_back(std::move(e));
  for (const ObjectInfo& o : diff.fetch) {
    Drop(o.key);
    Held h;
    h.info = o;
    std::vector<EntityRecord> mine;
    if (auto it = runs.find(o.key); it != runs.end()) {
      mine.reserve(it->second.count);
      for (auto [begin, end] : it->second.ranges) {
        mine.insert(mine.end(), std::make_move_iterator(decoded.records.begin() + static_cast<ptrdiff_t>(begin)),
                    std::make_move_iterator(decoded.records.begin() + static_cast<ptrdiff_t>(end)));
      }
    }
    std::unique_ptr<char[]> block;
    if (projection_) block = ProjectIntoArena(&mine, *projection_);
    if (auto it = bad.find(o.key); it != bad.end()) h.bad = std::move(it->second);
    h.records_total = mine.size() + h.bad.size();
    records_total_ += h.records_total;
    bytes_ += o.size;
    state_.AddObject(o.key, o.etag, std::move(mine), std::move(block));
    held_.emplace(o.key, std::move(h));
  }
}

void IngestedWindow::ProjectRecords(const SchemaOptions& schema) { projection_ = CompileBuildSchema(schema); }

DecodedInput IngestedWindow::SummaryAfter(const WindowDiff& diff, const DecodedInput& fetched) const {
  std::set<std::string_view> leaving;
  for (const ObjectInfo& o : diff.removed) leaving.insert(o.key);
  for (const ObjectInfo& o : diff.fetch) leaving.insert(o.key);
  DecodedInput out;
  for (const auto& [key, h] : held_) {
    if (leaving.contains(key)) continue;
    ++out.objects;
    out.bytes += h.info.size;
    out.records_total += h.records_total;
    for (const QuarantineEntry& e : h.bad) {
      out.bad.push_back(e);
      if (e.line == 0 && e.reason.starts_with(kReasonCorruptObject)) {
        ++out.corrupt_objects;
        out.corrupt_bytes += h.info.size;
      }
    }
  }
  out.objects += fetched.objects;
  out.bytes += fetched.bytes;
  out.records_total += fetched.records_total;
  out.corrupt_objects += fetched.corrupt_objects;
  out.corrupt_bytes += fetched.corrupt_bytes;
  out.bad.insert(out.bad.end(), fetched.bad.begin(), fetched.bad.end());
  return out;
}

void IngestedWindow::Clear() {
  state_ = WindowState();
  held_.clear();
  records_total_ = 0;
  bytes_ = 0;
  head.clear();
  base.clear();
}

std::vector<ObjectInfo> IngestedWindow::Objects() const {
  std::vector<ObjectInfo> out;
  out.reserve(held_.size());
  for (const auto& [key, h] : held_) out.push_back(h.info);
  return out;
}

std::vector<QuarantineEntry> IngestedWindow::Quarantine() const {
  std::vector<QuarantineEntry> out;
  for (const auto& [key, h] : held_) out.insert(out.end(), h.bad.begin(), h.bad.end());
  return out;
}

}  // namespace freshet
