#include "ingest/entity_table.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace freshet {

int CompareKeys(const EntityRecord& a, const EntityRecord& b) {
  if (a.level != b.level) return a.level < b.level ? -1 : 1;
  return a.id.compare(b.id);
}

int CompareVersions(const EntityRecord& a, const EntityRecord& b) {
  if (a.version != b.version) return a.version < b.version ? -1 : 1;
  if (a.tiebreak != b.tiebreak) return a.tiebreak < b.tiebreak ? -1 : 1;
  // Same version, same hash of the raw line: the same line (up to a 2^-64
  // collision). Not fields_json: a base record read from a full's entities
  // holds only the fields its level keeps (base_entities.h).
  return 0;
}

bool Supersedes(const EntityRecord& a, const EntityRecord& b) {
  const int c = CompareVersions(a, b);
  if (c != 0) return c > 0;
  return std::tie(a.source, a.line) > std::tie(b.source, b.line);
}

EntityTable::EntityTable(std::vector<EntityRecord> sorted_unique, uint64_t duplicates)
    : records_(std::move(sorted_unique)), duplicates_(duplicates) {
  IndexParents();
}

std::vector<EntityRecord> SortNewestPerKey(std::vector<EntityRecord> records, uint64_t* dropped) {
  *dropped = 0;
  // Snapshots usually arrive sorted and unique already (objects in key
  // order, lines in id order): then there is nothing to sort, drop or move.
  bool sorted_unique = true;
  for (size_t i = 1; i < records.size() && sorted_unique; ++i) {
    sorted_unique = CompareKeys(records[i - 1], records[i]) < 0;
  }
  if (sorted_unique) {
    records.shrink_to_fit();
    return records;
  }
  // Sort indices, not records: a record is ~200 bytes and std::sort would
  // move each one O(log n) times.
  std::vector<uint32_t> order(records.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&records](uint32_t x, uint32_t y) {
    const EntityRecord& a = records[x];
    const EntityRecord& b = records[y];
    const int k = CompareKeys(a, b);
    if (k != 0) return k < 0;
    return Supersedes(a, b);  // newest first within a key
  });
  std::vector<EntityRecord> unique;
  unique.reserve(records.size());
  for (uint32_t i : order) {
    // The first of each key is the newest; compare with the kept copy (the
    // previous index's record may have been moved from).
    if (!unique.empty() && CompareKeys(unique.back(), records[i]) == 0) continue;
    unique.push_back(std::move(records[i]));
  }
  *dropped = records.size() - unique.size();
  unique.shrink_to_fit();
  return unique;
}

EntityTable EntityTable::Build(std::vector<EntityRecord> records) {
  uint64_t dropped = 0;
  std::vector<EntityRecord> unique = SortNewestPerKey(std::move(records), &dropped);
  return EntityTable(std::move(unique), dropped);
}

EntityTable EntityTable::Merge(EntityTable a, EntityTable b) {
  std::vector<EntityRecord> out;
  out.reserve(a.records_.size() + b.records_.size());
  uint64_t dropped = a.duplicates_ + b.duplicates_;
  size_t i = 0, j = 0;
  while (i < a.records_.size() && j < b.records_.size()) {
    EntityRecord& x = a.records_[i];
    EntityRecord& y = b.records_[j];
    const int k = CompareKeys(x, y);
    if (k < 0) {
      out.push_back(std::move(x));
      ++i;
    } else if (k > 0) {
      out.push_back(std::move(y));
      ++j;
    } else {
      out.push_back(Supersedes(y, x) ? std::move(y) : std::move(x));
      ++dropped;
      ++i;
      ++j;
    }
  }
  for (; i < a.records_.size(); ++i) out.push_back(std::move(a.records_[i]));
  for (; j < b.records_.size(); ++j) out.push_back(std::move(b.records_[j]));
  out.shrink_to_fit();
  return EntityTable(std::move(out), dropped);
}

void EntityTable::IndexParents() {
  by_parent_.clear();
  for (size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].level > 0) by_parent_.push_back(static_cast<uint32_t>(i));
  }
  // Records are already sorted by (level, id), so a stable sort by
  // (level, parent_id) leaves each child group in id order.
  std::stable_sort(by_parent_.begin(), by_parent_.end(), [this](uint32_t x, uint32_t y) {
    const EntityRecord& a = records_[x];
    const EntityRecord& b = records_[y];
    if (a.level != b.level) return a.level < b.level;
    return a.parent_id < b.parent_id;
  });
}

const EntityRecord* EntityTable::Find(uint16_t level, std::string_view id) const {
  auto it = std::lower_bound(records_.begin(), records_.end(), std::make_pair(level, id),
                             [](const EntityRecord& r, const std::pair<uint16_t, std::string_view>& key) {
                               if (r.level != key.first) return r.level < key.first;
                               return std::string_view(r.id) < key.second;
                             });
  if (it == records_.end() || it->level != level || it->id != id) return nullptr;
  return &*it;
}

void EntityTable::ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const {
  auto less = [this](uint32_t x, const std::pair<uint16_t, std::string_view>& key) {
    const EntityRecord& r = records_[x];
    if (r.level != key.first) return r.level < key.first;
    return std::string_view(r.parent_id) < key.second;
  };
  const auto key = std::make_pair(level, parent);
  for (auto it = std::lower_bound(by_parent_.begin(), by_parent_.end(), key, less); it != by_parent_.end(); ++it) {
    const EntityRecord& r = records_[*it];
    if (r.level != level || r.parent_id != parent) break;
    out->push_back(&r);
  }
}

std::pair<const EntityRecord*, const EntityRecord*> EntityTable::Level(uint16_t level) const {
  auto lo = std::lower_bound(records_.begin(), records_.end(), level,
                             [](const EntityRecord& r, uint16_t l) { return r.level < l; });
  auto hi = std::lower_bound(lo, records_.end(), level + 1,
                             [](const EntityRecord& r, int l) { return r.level < l; });
  const EntityRecord* base = records_.data();
  return {base + (lo - records_.begin()), base + (hi - records_.begin())};
}

}  // namespace freshet
