// The window's deduplicated entities, maintained object by object between
// triggers: incremental ingest's state (SPEC §4, the Builder).
//
// Each ingested object is kept with its good records, keyed by object key
// and identified by its ETag (a changed ETag is a new object: remove the
// old, add the new). Per entity (level, id) the newest of its records over
// every object is the *winner*, by the same total order as EntityTable
// (entity_table.h: Supersedes), so the winners equal
// EntityTable::Build(all records) whatever order objects arrive or leave
// in. Winners are indexed by parent too, for the fan-out. Both indexes are
// hash tables (a restart inserts the whole window: ordered trees of
// string keys cost a dozen compares and cache misses per record); what
// must come out ordered is sorted when asked for.
//
// Touched entities: every (level, id) whose winner changed (appeared,
// was replaced, or vanished) since the last TakeTouched(). The Builder
// turns them into the batch's delta segment (doc_assembler.h:
// StreamTouchedDocs).
//
// Pure and synchronous; not thread-safe (one owner: the Builder's strand,
// or a task it hands the state to). Records live as long as their object
// is present; pointers returned by Find() / ChildrenOf() stay valid until
// the next Add/RemoveObject.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/entity_record.h"

namespace freshet {

struct EntityKey {
  uint16_t level = 0;
  std::string id;
  friend auto operator<=>(const EntityKey&, const EntityKey&) = default;
  friend bool operator==(const EntityKey&, const EntityKey&) = default;
};

// An entity whose winner changed, and what the winner was before the first
// change since the last TakeTouched() (nullopt: it was not in the window).
// With objects only added, a winner only gets newer; when objects leave it
// can go back to an older record or vanish, and whether that shows depends
// on what showed before (doc_assembler.h: StreamTouchedDocs).
struct TouchedEntity {
  EntityKey key;
  std::optional<EntityRecord> before;
};

class WindowState {
 public:
  WindowState() = default;
  WindowState(const WindowState&) = delete;
  WindowState& operator=(const WindowState&) = delete;
  WindowState(WindowState&&) = default;
  WindowState& operator=(WindowState&&) = default;

  // True when `key` is held with exactly this ETag.
  bool Holds(const std::string& key, const std::string& etag) const;
  // The ETag `key` is held with, or nullptr.
  const std::string* EtagOf(const std::string& key) const;

  // Adds object `key` (ETag `etag`) with its good records; a key already
  // held is replaced (its old records leave first). `block`, when given,
  // is what the records are packed in (record_projection.h:
  // ProjectIntoArena), held with them.
  void AddObject(const std::string& key, const std::string& etag, std::vector<EntityRecord> records,
                 std::unique_ptr<char[]> block = nullptr);
  // Removes object `key` and its records; false when it was not held.
  bool RemoveObject(const std::string& key);
  // Every held object key, ascending.
  std::vector<std::string> Objects() const;

  // The winner for (level, id), or nullptr.
  const EntityRecord* Find(uint16_t level, std::string_view id) const;
  // Appends the winners at `level` whose parent_id is `parent`, in id order
  // (EntityTable::ChildrenOf's contract).
  void ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const;
  // Calls fn(record) for every winner, in (level, id) order.
  template <typename Fn>
  void ForEachWinner(Fn&& fn) const {
    for (const EntityRecord* r : SortedWinners()) fn(*r);
  }

  // The entities whose winner changed since the last call, ascending by key.
  std::vector<TouchedEntity> TakeTouched();
  // Off: changes are not recorded (and what was recorded is dropped). For
  // rebuilding a state whose documents the chain already shows: a restart
  // re-ingests the whole window, and remembering every entity's previous
  // winner would cost a copy of each for nothing. On by default.
  void SetTracking(bool on);

  size_t objects() const { return objects_.size(); }
  size_t entities() const { return entities_; }
  size_t records() const { return records_; }
  // Candidate records not winning (older copies across objects).
  size_t duplicates() const { return records_ - entities_; }

 private:
  struct Object {
    std::string etag;
    std::vector<EntityRecord> records;  // never resized once held: stable addresses
    std::unique_ptr<char[]> block;      // what `records` are packed in, if they are
  };
  // (level, id) or (level, parent id): hashed, and looked up by view.
  using KeyView = std::pair<uint16_t, std::string_view>;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const { return std::hash<std::string_view>()(k.second) * 31 + k.first; }
    size_t operator()(const EntityKey& k) const { return (*this)(KeyView(k.level, k.id)); }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView View(const EntityKey& k) { return KeyView(k.level, k.id); }
    static KeyView View(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };

  // The entity index: one 16-byte slot per entity in an open-addressing
  // table (linear probing, backward-shift deletion), keyed by its winner's
  // (level, id). A node-based map cost ~110 bytes and two allocations per
  // entity (48 of the 428 MiB a restarted 5 h window held at 1M ads). An
  // entity with one candidate record (nearly all) needs nothing else; the
  // few held by several objects list their candidates in `dupes_`. Slots
  // move when others leave: nothing keeps a slot's index across a change.
  struct Slot {
    const EntityRecord* winner = nullptr;  // nullptr: empty
    uint32_t hash = 0;                     // Hash32 of the key
    uint32_t child_slot : 31 = 0;          // the winner's index in its parent's children_ list
    uint32_t dup : 1 = 0;                  // candidates listed in dupes_
  };
  static constexpr size_t kNoSlot = ~size_t{0};
  static uint32_t Hash32(KeyView k) {
    const size_t h = KeyHash()(k);
    return static_cast<uint32_t>(h ^ (h >> 32));
  }
  size_t FindSlot(KeyView k, uint32_t hash) const;
  size_t InsertSlot(uint32_t hash);  // an empty slot for a key not present
  void EraseSlot(size_t i);
  void Grow();

  void SetWinner(size_t slot, const EntityRecord* winner);
  void Touch(KeyView key, const EntityRecord* before);
  // The children index: a winner with a parent sits in its parent's list,
  // at its slot's child_slot; leaving swaps the list's last entry into its
  // place.
  void AddChild(Slot& slot, const EntityRecord* winner);
  void RemoveChild(const EntityRecord* winner, uint32_t child_slot);
  std::vector<const EntityRecord*> SortedWinners() const;

  std::vector<Slot> slots_;  // size 0 or a power of two
  size_t entities_ = 0;
  std::unordered_map<EntityKey, std::vector<const EntityRecord*>, KeyHash, KeyEq> dupes_;
  std::map<std::string, std::unique_ptr<Object>> objects_;
  // (child level, parent id) -> that parent's current children (winners),
  // in no order. Keyed by (level, parent) with the parent id owned here.
  std::unordered_map<EntityKey, std::vector<const EntityRecord*>, KeyHash, KeyEq> children_;
  std::map<EntityKey, std::optional<EntityRecord>> touched_;  // key -> winner before the first change
  bool tracking_ = true;
  size_t records_ = 0;
};

}  // namespace freshet
