// What the actors say to each other: plain value structs, each naming its
// mailbox overflow policy (actors/mailbox.h), and the mailbox each actor
// receives on.
//
// One batch, along the data flow:
//   Ticker    --ListNow-->        Lister     (a deadline, slot end + grace, ...)
//   Lister    --PlanRequest-->    Planner    (the listing, with its own time)
//   Planner   --BuildRequest-->   Builder    (the plan; or the batch ends idle)
//   Builder   --CommitRequest-->  Committer  (the built bytes)
//   Committer --CheckpointAdvanced--> Lister, Planner, Merger
// and beside the batches, keeping the delta chain short:
//   Merger    --MergeReady-->     Committer  (the pending merge's segment;
//                                            the next batch commits it)
//   whoever ends the batch --BatchFinished--> Ticker, Watchdog
//                           (and a BatchEnded event to the status board)
// The Committer owns the checkpoint; the Lister's and Planner's copies
// change only through CheckpointAdvanced. Ordering: the Committer posts
// CheckpointAdvanced before BatchFinished, and the next batch begins only
// after the Ticker received BatchFinished, so by causality every actor
// has the new checkpoint before the next batch's messages reach it (each
// mailbox is FIFO).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "actors/mailbox.h"
#include "admin/batch_progress.h"
#include "plan/batch_planner.h"
#include "commit/built_batch.h"

namespace freshet {

// --- Heartbeats -------------------------------------------------------------

// Watchdog -> every actor; answered with a Pong from the actor's strand.
struct Ping {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  uint64_t seq = 0;
};
struct Pong {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  std::string actor;
  uint64_t seq = 0;
};

// --- The batch flow -----------------------------------------------------------

// Ticker -> Lister: list now, to start a batch or (probe) to measure the
// eligible input for the hybrid trigger rule.
struct ListNow {
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
  TimePoint trigger_time{};
  bool probe = false;
};

// Builder -> Lister: the source changed under the listing (an object was
// rewritten or deleted after it was listed): list the whole window again
// at the next trigger, frozen folders too.
struct RelistWindow {
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
  std::string reason;
};

// What one listing saw.
struct ListingReport {
  TimePoint listed_at{};  // the clock when the LIST began: eligibility is judged at this time
  // Every partition of the window the Lister knows, shared and immutable:
  // an idle trigger copies a pointer, not the history (SPEC §4: an idle
  // tick costs ~1 ms whatever the history). Never null.
  std::shared_ptr<const std::vector<PartitionListing>> partition_list =
      std::make_shared<const std::vector<PartitionListing>>();
  const std::vector<PartitionListing>& partitions() const { return *partition_list; }
  void set_partitions(std::vector<PartitionListing> p) {
    partition_list = std::make_shared<const std::vector<PartitionListing>>(std::move(p));
  }
  std::vector<SnapshotListing> snapshots;
  uint64_t list_requests = 0;  // LIST calls this trigger
  bool whole_window = false;   // the window was listed whole (frozen folders too)
  uint64_t unparsed_keys = 0;  // total so far: keys outside the layout (ignored)
};

// Lister -> Planner.
struct PlanRequest {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  BatchProgress progress;
  ListingReport listing;
};

// Planner -> Builder.
struct BuildRequest {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  BatchProgress progress;
  BuildPlan plan;
};

// Builder -> Committer.
struct CommitRequest {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  BatchProgress progress;
  BuildPlan plan;
  BuiltBatch built;
};

// Committer -> Lister, Planner: the checkpoint after a commit.
struct CheckpointAdvanced {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  Checkpoint checkpoint;
};

// --- Merges: keeping the delta chain short (SPEC §3) ------------------------
// Merger -> Committer: the segment of the checkpoint's pending merge
// `id`, built; the next batch's commit makes it live.
struct MergeReady {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  std::string id;
  BuiltGeneration merged;
};
// Merger -> Committer: merge `id` could not be built; the next commit
// goes without it.
struct MergeFailed {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  std::string id;
  std::string message;
};

// Planner -> Watchdog: a build began.
struct BatchStarted {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  uint64_t batch_id = 0;
};

// Planner -> Watchdog, after every plan: since when eligible input has
// waited for a commit (plan/batch_planner.h WaitingSince), nullopt when
// nothing waits. The health rule: waiting longer than max_commit_age
// without a commit is unhealthy; a quiet source never is.
struct InputWaiting {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  std::optional<TimePoint> since;
};

// Whoever ends a batch -> Ticker, Watchdog.
struct BatchFinished {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  uint64_t batch_id = 0;  // 0 when it ended before a plan
  bool built = false;     // a generation was committed
  bool failed = false;
};

// Lister -> Ticker: eligible input not yet built, for the hybrid rule.
struct PendingMeasured {
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
  uint64_t bytes = 0;
};

// --- Control --------------------------------------------------------------------

// RunControl -> Ticker: stop firing; end the run once no batch is in flight.
struct DrainRequest {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
};
// Ticker -> RunControl: the run is over (drained, once, available_now).
struct RunEnded {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  bool failed = false;  // the last batch failed (once / available_now)
};
// Watchdog -> RunControl: max_uptime reached.
struct RestartDue {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
};
// Committer -> RunControl: CURRENT was replaced by another writer since
// this one read it; one writer per sink, so this run ends (exit 1).
struct WriterFenced {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  std::string reason;
};
// The signal set -> RunControl.
struct SignalReceived {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  int signal = 0;
};

// --- Timers: an actor's ClockTimer posts these into its own mailbox ---------

struct DeadlineDue {  // Ticker: a trigger deadline
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct ProbeDue {  // Ticker: time to probe (hybrid rule)
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct BeatDue {  // Watchdog: heartbeat round
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct LeaseDue {  // Committer: renew the writer lease
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct DrainExpired {  // RunControl: the drain bound passed
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
};

// --- Each actor's mailbox -------------------------------------------------------

using TickerMsg = std::variant<DeadlineDue, ProbeDue, BatchFinished, PendingMeasured, DrainRequest, Ping>;
using ListerMsg = std::variant<ListNow, RelistWindow, CheckpointAdvanced, Ping>;
using PlannerMsg = std::variant<PlanRequest, CheckpointAdvanced, Ping>;
using BuilderMsg = std::variant<BuildRequest, Ping>;
using CommitterMsg = std::variant<CommitRequest, MergeReady, MergeFailed, Ping, LeaseDue>;
using MergerMsg = std::variant<CheckpointAdvanced, Ping>;
using WatchdogMsg = std::variant<BeatDue, Pong, BatchStarted, BatchFinished, InputWaiting>;
using ControlMsg = std::variant<RunEnded, RestartDue, SignalReceived, DrainExpired, WriterFenced>;

// For std::visit over a message variant: overloaded{[](const A&){}, ...}.
template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace freshet
