#include "ingest/window_state.h"

#include <algorithm>

#include "ingest/entity_table.h"

namespace freshet {

bool WindowState::Holds(const std::string& key, const std::string& etag) const {
  const std::string* held = EtagOf(key);
  return held != nullptr && *held == etag;
}

const std::string* WindowState::EtagOf(const std::string& key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second->etag;
}

std::vector<std::string> WindowState::Objects() const {
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& [key, object] : objects_) keys.push_back(key);
  return keys;
}

size_t WindowState::FindSlot(KeyView k, uint32_t hash) const {
  if (slots_.empty()) return kNoSlot;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.winner == nullptr) return kNoSlot;
    if (s.hash == hash && s.winner->level == k.first && s.winner->id == k.second) return i;
  }
}

void WindowState::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.winner == nullptr) continue;
    size_t i = s.hash & mask;
    while (slots_[i].winner != nullptr) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

size_t WindowState::InsertSlot(uint32_t hash) {
  if ((entities_ + 1) * 4 > slots_.size() * 3) Grow();  // load <= 3/4
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].winner != nullptr) i = (i + 1) & mask;
  slots_[i] = Slot{};
  slots_[i].hash = hash;
  ++entities_;
  return i;
}

void WindowState::EraseSlot(size_t i) {
  // Backward shift: every later entry of the probe run that may live at i
  // (its home is not cyclically within (i, j]) moves there, so lookups
  // never meet a hole before their key.
  const size_t mask = slots_.size() - 1;
  for (size_t j = (i + 1) & mask; slots_[j].winner != nullptr; j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --entities_;
}

void WindowState::AddChild(Slot& slot, const EntityRecord* winner) {
  auto it = children_.find(KeyView(winner->level, winner->parent_id));
  if (it == children_.end()) it = children_.emplace(EntityKey{winner->level, winner->parent_id}, std::vector<const EntityRecord*>()).first;
  slot.child_slot = static_cast<uint32_t>(it->second.size());
  it->second.push_back(winner);
}

void WindowState::RemoveChild(const EntityRecord* winner, uint32_t child_slot) {
  auto it = children_.find(KeyView(winner->level, winner->parent_id));
  std::vector<const EntityRecord*>& kids = it->second;
  if (child_slot + 1 != kids.size()) {
    const EntityRecord* last = kids.back();
    kids[child_slot] = last;
    const KeyView k(last->level, last->id);
    slots_[FindSlot(k, Hash32(k))].child_slot = child_slot;
  }
  kids.pop_back();
  if (kids.empty()) children_.erase(it);
}

void WindowState::SetWinner(size_t i, const EntityRecord* winner) {
  Slot& slot = slots_[i];
  if (slot.winner == winner) return;
  const EntityRecord* old = slot.winner;
  if (old != nullptr && winner != nullptr && !old->parent_id.empty() && old->parent_id == winner->parent_id) {
    // Same parent: the new winner takes the old one's place.
    children_.find(KeyView(old->level, old->parent_id))->second[slot.child_slot] = winner;
  } else {
    if (old != nullptr && !old->parent_id.empty()) RemoveChild(old, slot.child_slot);
    if (winner != nullptr && !winner->parent_id.empty()) AddChild(slot, winner);
  }
  slot.winner = winner;
  // A new winner with the very same content changes no document: a copy of
  // the same line in another object, or the same object read again.
  if (old != nullptr && winner != nullptr && CompareVersions(*old, *winner) == 0) return;
  const EntityRecord* named = winner != nullptr ? winner : old;
  Touch(KeyView(named->level, named->id), old);
}

void WindowState::SetTracking(bool on) {
  tracking_ = on;
  if (!on) touched_.clear();
}

void WindowState::Touch(KeyView key, const EntityRecord* before) {
  if (!tracking_) return;
  EntityKey k{key.first, std::string(key.second)};
  if (touched_.contains(k)) return;  // the first change's `before` is the one that showed
  touched_.emplace(std::move(k), before ? std::optional<EntityRecord>(*before) : std::nullopt);
}

void WindowState::AddObject(const std::string& key, const std::string& etag, std::vector<EntityRecord> records,
                            std::unique_ptr<char[]> block) {
  RemoveObject(key);
  auto object = std::make_unique<Object>();
  object->etag = etag;
  object->records = std::move(records);
  object->block = std::move(block);
  records_ += object->records.size();
  for (const EntityRecord& r : object->records) {
    const KeyView k(r.level, r.id);
    const uint32_t hash = Hash32(k);
    size_t i = FindSlot(k, hash);
    if (i == kNoSlot) {
      SetWinner(InsertSlot(hash), &r);
      continue;
    }
    Slot& slot = slots_[i];
    if (slot.dup) {
      dupes_.find(k)->second.push_back(&r);
    } else {
      dupes_.emplace(EntityKey{r.level, r.id}, std::vector<const EntityRecord*>{slot.winner, &r});
      slot.dup = 1;
    }
    if (Supersedes(r, *slot.winner)) SetWinner(i, &r);
  }
  objects_.emplace(key, std::move(object));
}

bool WindowState::RemoveObject(const std::string& key) {
  auto found = objects_.find(key);
  if (found == objects_.end()) return false;
  std::unique_ptr<Object> object = std::move(found->second);
  objects_.erase(found);
  records_ -= object->records.size();
  for (const EntityRecord& r : object->records) {
    const KeyView k(r.level, r.id);
    const size_t i = FindSlot(k, Hash32(k));
    Slot& slot = slots_[i];
    if (!slot.dup) {
      // Its only record: the entity leaves the window (the touch first,
      // while the record that holds its key is still there).
      Touch(k, &r);
      if (!r.parent_id.empty()) RemoveChild(&r, slot.child_slot);
      EraseSlot(i);
      continue;
    }
    auto d = dupes_.find(k);
    std::vector<const EntityRecord*>& candidates = d->second;
    candidates.erase(std::find(candidates.begin(), candidates.end(), &r));
    const EntityRecord* next = nullptr;
    if (slot.winner == &r) {
      for (const EntityRecord* c : candidates) {
        if (next == nullptr || Supersedes(*c, *next)) next = c;
      }
    }
    if (candidates.size() == 1) {
      dupes_.erase(d);
      slot.dup = 0;
    }
    if (next != nullptr) SetWinner(i, next);
  }
  return true;
}

const EntityRecord* WindowState::Find(uint16_t level, std::string_view id) const {
  const KeyView k(level, id);
  const size_t i = FindSlot(k, Hash32(k));
  return i == kNoSlot ? nullptr : slots_[i].winner;
}

void WindowState::ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const {
  auto it = children_.find(KeyView(level, parent));
  if (it == children_.end()) return;
  const size_t from = out->size();
  out->insert(out->end(), it->second.begin(), it->second.end());
  std::sort(out->begin() + static_cast<ptrdiff_t>(from), out->end(),
            [](const EntityRecord* a, const EntityRecord* b) { return a->id < b->id; });
}

std::vector<const EntityRecord*> WindowState::SortedWinners() const {
  std::vector<const EntityRecord*> out;
  out.reserve(entities_);
  for (const Slot& s : slots_) {
    if (s.winner != nullptr) out.push_back(s.winner);
  }
  std::sort(out.begin(), out.end(), [](const EntityRecord* a, const EntityRecord* b) {
    return a->level != b->level ? a->level < b->level : a->id < b->id;
  });
  return out;
}

std::vector<TouchedEntity> WindowState::TakeTouched() {
  std::vector<TouchedEntity> out;
  out.reserve(touched_.size());
  for (auto& [key, before] : touched_) out.push_back(TouchedEntity{key, std::move(before)});
  touched_.clear();
  return out;
}

}  // namespace freshet
