// Lister actor: lists the source's update partitions and snapshots on every
// trigger, cheaply (FolderListingCache: only keys after the frozen prefix,
// paged), and reports them with sizes and ETags.
//
// Strand: everything runs on the mailbox's strand; one listing at a time
// (the Ticker never fires while a batch is in flight).
#pragma once

#include <functional>
#include <memory>

#include "actors/batch_progress.h"
#include "actors/folder_listing_cache.h"
#include "actors/mailbox.h"
#include "base/clock.h"
#include "storage/object_store.h"

namespace freshet {

struct ListingReport {
  std::vector<PartitionListing> partitions;
  std::vector<SnapshotListing> snapshots;
  uint64_t list_requests = 0;  // LIST calls this trigger
  uint64_t unparsed_keys = 0;  // total so far: keys outside the layout (ignored)
};

class Lister : public std::enable_shared_from_this<Lister> {
 public:
  using Done = std::function<void(Result<ListingReport>)>;
  Lister(asio::io_context& io, ObjectStore* source, const Options& options, PartitionLayout layout,
         const PlannerConfig& planner_config, const Clock* clock);

  // The planner's checkpoint changed: move the listing lower bounds.
  void SetCheckpoint(Checkpoint checkpoint);
  // Lists now; `done` runs on the Lister's strand.
  void List(Done done);
  void Ping(std::function<void()> pong);
  Mailbox& mailbox() { return mailbox_; }

 private:
  Awaitable<void> RunList(Done done);
  Awaitable<Status> ListAfter(std::string prefix, std::string start_after, std::vector<ObjectInfo>* out,
                              uint64_t* requests);

  Mailbox mailbox_;
  ObjectStore* source_;
  PlannerConfig planner_config_;
  const Clock* clock_;
  FolderListingCache partitions_;
  FolderListingCache snapshots_;
  std::string updates_prefix_, snapshots_prefix_, layout_pattern_;
  uint64_t warned_unparsed_ = 0;
};

}  // namespace freshet
