// Lister actor: lists the source's update partitions and snapshots when the
// Ticker says so, cheaply (FolderListingCache: only keys after the frozen
// prefix, paged), and hands the listing, stamped with the time it began,
// to the Planner; or, for a probe, measures the eligible input not yet
// built and tells the Ticker.
//
// The whole window is listed again (frozen folders too) at start-up, every
// source.relist_interval, and after a RelistWindow (the Builder found an
// object changed since it was listed), so a rewritten, deleted or late
// object in a settled partition is seen by the next batch.
//
// Receives ListNow, RelistWindow, CheckpointAdvanced (its listing lower
// bounds follow the Committer's checkpoint), Ping. One listing at a time: the Ticker
// never asks for another while a batch or probe is in flight (one that
// arrives anyway fails at once, naming the reason).
//
// Strand: all state lives in the receive loop on the mailbox's strand.
#pragma once

#include <memory>
#include <optional>

#include "actors/batch_route.h"
#include "actors/folder_listing_cache.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "base/clock.h"
#include "storage/object_store.h"

namespace freshet {

class Lister : public std::enable_shared_from_this<Lister> {
 public:
  struct Outputs {
    Mailbox<PlannerMsg>* planner = nullptr;
    Mailbox<TickerMsg>* ticker = nullptr;  // probe results
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    BatchRoute route;  // a failed listing ends its batch
  };
  // `checkpoint`: the recovered one, until the first CheckpointAdvanced.
  // REQUIRES: `source`, `clock` and the outputs outlive the actor.
  Lister(asio::io_context& io, ObjectStore* source, const Options& options, PartitionLayout layout,
         const PlannerConfig& planner_config, const Checkpoint& checkpoint, const Clock* clock);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();  // spawns the receive loop
  Mailbox<ListerMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  Awaitable<void> OnListNow(ListNow m);
  void RefuseWhileBusy(const ListNow& m);
  Awaitable<Result<ListingReport>> ListOnce();
  Awaitable<Status> ListAfter(std::string prefix, std::string start_after, std::vector<ObjectInfo>* out,
                              uint64_t* requests);
  void SetCheckpoint(const Checkpoint& checkpoint);

  Mailbox<ListerMsg> mailbox_;
  ObjectStore* source_;
  PlannerConfig planner_config_;
  const Clock* clock_;
  Outputs out_;
  Checkpoint checkpoint_;
  FolderListingCache partitions_;
  FolderListingCache snapshots_;
  std::string updates_prefix_, snapshots_prefix_, layout_pattern_;
  Duration relist_interval_;
  std::optional<TimePoint> last_whole_listing_;  // when the last whole-window listing began
  uint64_t warned_unparsed_ = 0;
  bool listing_ = false;
};

// The hybrid rule's measure: bytes of input objects in partitions after the
// watermark that are eligible at `now`.
uint64_t EligiblePendingBytes(const ListingReport& listing, const PlannerConfig& config, const Checkpoint& checkpoint,
                              TimePoint now);

}  // namespace freshet
