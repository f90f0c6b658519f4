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

void WindowState::SetWinner(const EntityKey& key, Entity& entity, const EntityRecord* winner) {
  if (entity.winner == winner) return;
  const EntityRecord* old = entity.winner;
  if (old != nullptr && !old->parent_id.empty()) children_.erase(ChildKey{old->level, old->parent_id, old->id});
  entity.winner = winner;
  if (winner != nullptr && !winner->parent_id.empty()) {
    children_.insert(ChildKey{winner->level, winner->parent_id, winner->id});
  }
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
    auto it = entities_.find(std::pair<uint16_t, std::string_view>(r.level, r.id));
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
    auto it = entities_.find(std::pair<uint16_t, std::string_view>(r.level, r.id));
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
      if (!r.parent_id.empty()) children_.erase(ChildKey{r.level, r.parent_id, r.id});
      entities_.erase(it);
    } else {
      SetWinner(it->first, e, next);
    }
  }
  return true;
}

const EntityRecord* WindowState::Find(uint16_t level, std::string_view id) const {
  auto it = entities_.find(std::pair<uint16_t, std::string_view>(level, id));
  return it == entities_.end() ? nullptr : it->second.winner;
}

void WindowState::ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const {
  for (auto it = children_.lower_bound(ChildKey{level, parent, {}});
       it != children_.end() && it->level == level && it->parent == parent; ++it) {
    out->push_back(Find(level, it->id));
  }
}

std::vector<TouchedEntity> WindowState::TakeTouched() {
  std::vector<TouchedEntity> out;
  out.reserve(touched_.size());
  for (auto& [key, before] : touched_) out.push_back(TouchedEntity{key, std::move(before)});
  touched_.clear();
  return out;
}

}  // namespace freshet
