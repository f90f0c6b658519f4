#include "actors/folder_listing_cache.h"

#include <algorithm>

namespace freshet {
namespace {

// U+10FFFF, the largest code point: every valid UTF-8 key inside a folder
// sorts before "<folder>/" + this.
constexpr std::string_view kMaxKeySuffix = "\xf4\x8f\xbf\xbf";

}  // namespace

void FolderListingCache::SetLowerBound(std::optional<TimePoint> from) {
  lower_bound_ = from ? std::optional<TimePoint>(layout_.Floor(*from)) : std::nullopt;
  if (!lower_bound_) return;
  auto end = folders_.lower_bound(*lower_bound_);
  if (end != folders_.begin()) shared_.reset();
  folders_.erase(folders_.begin(), end);
  // Frozen folders below the new bound are gone, but the frozen mark stays:
  // listing restarts after it, never before the bound.
}

std::string FolderListingCache::StartAfter() const {
  if (!relist_whole_ && frozen_through_ && (!lower_bound_ || *frozen_through_ >= *lower_bound_)) {
    return prefix_ + layout_.Format(*frozen_through_) + std::string(kMaxKeySuffix);
  }
  if (lower_bound_) {
    // "updates/2026/11/22/14/05" (no trailing '/'): below every key of that
    // folder, above every key of earlier folders.
    std::string folder = layout_.Format(*lower_bound_);
    folder.pop_back();
    return prefix_ + folder;
  }
  return "";
}

void FolderListingCache::Absorb(const std::vector<ObjectInfo>& objects, TimePoint now) {
  std::map<TimePoint, std::vector<ObjectInfo>> fresh;
  for (const auto& o : objects) {
    if (o.key.compare(0, prefix_.size(), prefix_) != 0) continue;
    std::string_view rel(o.key);
    rel.remove_prefix(prefix_.size());
    auto t = layout_.ParseKey(rel);
    if (!t) {
      ++unparsed_;
      last_unparsed_ = o.key;
      continue;
    }
    if (lower_bound_ && *t < *lower_bound_) continue;
    if (!relist_whole_ && frozen_through_ && *t <= *frozen_through_) continue;  // not listed again
    if (!IsInputObject(o)) continue;
    fresh[*t].push_back(o);
  }
  // Everything after the frozen mark (everything, for a whole listing) was
  // listed again in full: replace it.
  auto keep_end = !relist_whole_ && frozen_through_ ? folders_.upper_bound(*frozen_through_) : folders_.begin();
  relist_whole_ = false;
  bool changed = false;
  if (keep_end == folders_.end()) {
    changed = !fresh.empty();
  } else {
    // Unchanged when the same folders came back with the same objects.
    changed = !std::equal(keep_end, folders_.end(), fresh.begin(), fresh.end());
  }
  if (changed) {
    folders_.erase(keep_end, folders_.end());
    for (auto& [t, objs] : fresh) folders_[t] = std::move(objs);
    shared_.reset();
  }
  // Only folders after the frozen mark can freeze now.
  for (auto it = frozen_through_ ? folders_.upper_bound(*frozen_through_) : folders_.begin(); it != folders_.end();
       ++it) {
    if (it->first + settle_ <= now) frozen_through_ = std::max(frozen_through_.value_or(it->first), it->first);
  }
}

std::shared_ptr<const std::vector<PartitionListing>> FolderListingCache::SharedPartitions() const {
  if (!shared_) shared_ = std::make_shared<const std::vector<PartitionListing>>(Partitions());
  return shared_;
}

std::vector<PartitionListing> FolderListingCache::Partitions() const {
  std::vector<PartitionListing> out;
  out.reserve(folders_.size());
  for (const auto& [t, objs] : folders_) out.push_back({t, objs});
  return out;
}

std::vector<SnapshotListing> FolderListingCache::Snapshots() const {
  std::vector<SnapshotListing> out;
  out.reserve(folders_.size());
  for (const auto& [t, objs] : folders_) out.push_back({t, objs});
  return out;
}

}  // namespace freshet
