// Deduplicated entities: one record per (level, id), the newest.
//
// "Newest" is a total order, so a table's content never depends on the
// order its records arrived in (object listing order, thread scheduling):
//   1. higher version;
//   2. then higher tiebreak (XXH3-64 of the raw line);
//   3. then (between identical lines) larger source, larger line.
// 1-2 compare content (CompareVersions); 3 only picks which of several
// identical copies is kept, which no output depends on. (Two different
// lines with one version and one 64-bit hash would also be told apart by
// 3 alone: a 2^-64 chance per pair, accepted so that a base record need
// not carry its whole line, base_entities.h.)
//
// Deleted records stay in the table: a tombstone is the newest version of
// its entity and must shadow older ones when tables are merged.
// Immutable once built; safe to read from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ingest/entity_record.h"

namespace freshet {

// <0, 0, >0 as `a` is older than, content-equal to, or newer than `b`
// (criteria 1-2 above). Level and id are not compared.
int CompareVersions(const EntityRecord& a, const EntityRecord& b);

// True when `a` replaces `b` as the kept version of the same entity
// (criteria 1-4 above).
bool Supersedes(const EntityRecord& a, const EntityRecord& b);

// (level, id) order: <0, 0, >0.
int CompareKeys(const EntityRecord& a, const EntityRecord& b);

// `records` sorted by (level, id) with the newest of each key kept (the
// order above); *dropped counts the older copies left out.
std::vector<EntityRecord> SortNewestPerKey(std::vector<EntityRecord> records, uint64_t* dropped);

class EntityTable {
 public:
  EntityTable() = default;

  // Keeps the newest record per (level, id). `duplicates()` counts the rest.
  static EntityTable Build(std::vector<EntityRecord> records);

  // The newest record per (level, id) over both tables; commutative.
  // Use it to fold per-partition tables into a window table.
  static EntityTable Merge(EntityTable a, EntityTable b);

  // The record for (level, id), or nullptr.
  const EntityRecord* Find(uint16_t level, std::string_view id) const;
  // Find, for a caller that reads only the version, flags and parent (as
  // BaseEntities::FindVersion).
  const EntityRecord* FindVersion(uint16_t level, std::string_view id) const { return Find(level, id); }

  // Appends the records at `level` whose parent_id is `parent`, in id order.
  void ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const;
  // ChildrenOf, for a caller that reads only the children's versions,
  // flags and parents (as BaseEntities::ChildVersionsOf).
  void ChildVersionsOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const {
    ChildrenOf(level, parent, out);
  }

  // Records sorted by (level, id).
  const std::vector<EntityRecord>& records() const { return records_; }
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // The records at `level` (a contiguous, id-sorted run of records()).
  std::pair<const EntityRecord*, const EntityRecord*> Level(uint16_t level) const;
  // Records dropped as older duplicates while building/merging this table.
  uint64_t duplicates() const { return duplicates_; }

 private:
  explicit EntityTable(std::vector<EntityRecord> sorted_unique, uint64_t duplicates);
  void IndexParents();

  std::vector<EntityRecord> records_;
  std::vector<uint32_t> by_parent_;  // indices of non-root records sorted by (level, parent_id, id)
  uint64_t duplicates_ = 0;
};

}  // namespace freshet
