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

void WindowState::AddChild(Entity& entity, const EntityRecord* winner) {
  auto it = children_.find(KeyView(winner->level, winner->parent_id));
  if (it == children_.end()) it = children_.emplace(EntityKey{winner->level, winner->parent_id}, std::vector<const EntityRecord*>()).first;
  entity.child_slot = static_cast<uint32_t>(it->second.size());
  it->second.push_back(winner);
}

void WindowState::RemoveChild(const EntityRecord* winner, uint32_t slot) {
  auto it = children_.find(KeyView(winner->level, winner->parent_id));
  std::vector<const EntityRecord*>& kids = it->second;
  if (slot + 1 != kids.size()) {
    const EntityRecord* last = kids.back();
    kids[slot] = last;
    entities_.find(KeyView(last->level, last->id))->second.child_slot = slot;
  }
  kids.pop_back();
  if (kids.empty()) children_.erase(it);
}

void WindowState::SetWinner(const EntityKey& key, Entity& entity, const EntityRecord* winner) {
  if (entity.winner == winner) return;
  const EntityRecord* old = entity.winner;
  if (old != nullptr && winner != nullptr && !old->parent_id.empty() && old->parent_id == winner->parent_id) {
    // Same parent: the new winner takes the old one's slot.
    children_.find(KeyView(old->level, old->parent_id))->second[entity.child_slot] = winner;
  } else {
    if (old != nullptr && !old->parent_id.empty()) RemoveChild(old, entity.child_slot);
    if (winner != nullptr && !winner->parent_id.empty()) AddChild(entity, winner);
  }
  entity.winner = winner;
  // A new winner with the very same content changes no document: a copy of
  // the same line in another object, or the same object read again.
  if (old != nullptr && winner != nullptr && CompareVersions(*old, *winner) == 0) return;
  Touch(key, old);
}

void WindowState::SetTracking(bool on) {
  tracking_ = on;
  if (!on) touched_.clear();
}

void WindowState::Touch(const EntityKey& key, const EntityRecord* before) {
  if (!tracking_ || touched_.contains(key)) return;  // the first change's `before` is the one that showed
  touched_.emplace(key, before ? std::optional<EntityRecord>(*before) : std::nullopt);
}

void WindowState::AddObject(const std::string& key, const std::string& etag, std::vector<EntityRecord> records) {
  RemoveObject(key);
  auto object = std::make_unique<Object>();
  object->etag = etag;
  object->records = std::move(records);
  records_ += object->records.size();
  for (const EntityRecord& r : object->records) {
    auto it = entities_.find(KeyView(r.level, r.id));
    if (it == entities_.end()) it = entities_.emplace(EntityKey{r.level, r.id}, Entity{}).first;
    Entity& e = it->second;
    e.candidates.push_back(&r);
    if (e.winner == nullptr || Supersedes(r, *e.winner)) SetWinner(it->first, e, &r);
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
    auto it = entities_.find(KeyView(r.level, r.id));
    Entity& e = it->second;
    e.candidates.erase(std::find(e.candidates.begin(), e.candidates.end(), &r));
    if (e.winner != &r) continue;
    const EntityRecord* next = nullptr;
    for (const EntityRecord* c : e.candidates) {
      if (next == nullptr || Supersedes(*c, *next)) next = c;
    }
    if (next == nullptr) {
      // The entity leaves the window: its key goes with its last record,
      // so remember the touch by value first.
      EntityKey gone = it->first;
      Touch(gone, &r);
      if (!r.parent_id.empty()) RemoveChild(&r, e.child_slot);
      entities_.erase(it);
    } else {
      SetWinner(it->first, e, next);
    }
  }
  return true;
}

const EntityRecord* WindowState::Find(uint16_t level, std::string_view id) const {
  auto it = entities_.find(KeyView(level, id));
  return it == entities_.end() ? nullptr : it->second.winner;
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
  out.reserve(entities_.size());
  for (const auto& [key, entity] : entities_) out.push_back(entity.winner);
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
