// The Lister's memory between triggers, as pure bookkeeping: which time
// folders (partitions or snapshots) are known, with their objects, and which
// of them are frozen — listed after they became eligible, so their contents
// are final and they are never listed again.
//
// Each trigger lists only keys after StartAfter(): the frozen prefix of
// history costs nothing, which keeps a LIST per trigger cheap however long
// the daemon runs (SPEC §4: resume from the watermark, not all history).
// Now and then (RelistWhole) the whole window is listed again, so changes
// to frozen folders are seen too.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plan/batch_planner.h"
#include "plan/partition_layout.h"

namespace freshet {

class FolderListingCache {
 public:
  // `prefix`: e.g. "updates/"; `settle`: how long after a folder's time its
  // contents are final (interval + grace for partitions, snapshot_grace for
  // snapshots).
  FolderListingCache(std::string prefix, PartitionLayout layout, Duration settle)
      : prefix_(std::move(prefix)), layout_(std::move(layout)), settle_(settle) {}

  // Forget folders before `from` (they left the window); nullopt keeps all.
  void SetLowerBound(std::optional<TimePoint> from);

  // The next listing covers the whole window again, frozen folders too: a
  // frozen folder's objects can still be rewritten, deleted or joined by
  // late ones (README "Late and changed objects"). The listing absorbed
  // next replaces every folder from the lower bound on, dropping those it
  // no longer shows.
  void RelistWhole() { relist_whole_ = true; }
  bool relisting_whole() const { return relist_whole_; }

  // The start-after key for this trigger's LIST: past every frozen folder
  // (unless RelistWhole), and just before the lower bound's folder.
  std::string StartAfter() const;

  // Absorbs one complete listing (all pages) of keys after StartAfter(),
  // taken at `now`. Keys that do not parse as a folder of the layout are
  // counted in unparsed(); markers and empty objects (not IsInputObject)
  // are left out. Folders listed again replace what was known; folders
  // whose settle time has passed become frozen.
  void Absorb(const std::vector<ObjectInfo>& objects, TimePoint now);

  std::vector<PartitionListing> Partitions() const;
  // The same, shared: rebuilt only after the folders changed, so an idle
  // trigger costs a pointer copy however many folders are known.
  std::shared_ptr<const std::vector<PartitionListing>> SharedPartitions() const;
  std::vector<SnapshotListing> Snapshots() const;
  std::optional<TimePoint> frozen_through() const { return frozen_through_; }
  uint64_t unparsed() const { return unparsed_; }
  const std::string& last_unparsed_key() const { return last_unparsed_; }
  size_t folders() const { return folders_.size(); }

 private:
  std::string prefix_;
  PartitionLayout layout_;
  Duration settle_;
  std::optional<TimePoint> lower_bound_;
  std::optional<TimePoint> frozen_through_;
  std::map<TimePoint, std::vector<ObjectInfo>> folders_;  // input objects only (IsInputObject)
  mutable std::shared_ptr<const std::vector<PartitionListing>> shared_;  // null once folders_ changed
  uint64_t unparsed_ = 0;
  std::string last_unparsed_;
  bool relist_whole_ = false;
};

}  // namespace freshet
