// Committer actor: makes a built batch durable and visible by carrying out
// its commit plan (sink/commit_plan.h: files, manifests, CURRENT with the
// embedded checkpoint), then applies retention.
//
// It owns the checkpoint: recovered from the sink at start-up, advanced
// by each commit, and announced to the Lister and the Planner with
// CheckpointAdvanced before the batch's end reaches the Ticker. A plan
// made against another checkpoint (its batch id is not the next one) is
// refused rather than committed.
//
// Receives CommitRequest, MergeReady, MergeFailed and Ping. A commit runs
// on its own coroutine on the strand (heartbeats are answered meanwhile);
// one at a time. The checkpoint's pending merge (decided after the last
// batch, built meanwhile by the Merger) is committed with the next batch
// (commit/commit_plan.h); that commit waits for the Merger's answer if it
// has not come yet, at most kMergeWait. The wait keeps what each CURRENT
// names a function of the batches alone, not of timing, so a rerun commits
// the same bytes (DeterminismE2e, the crash-point tests); with batches
// minutes apart the merge is long built by then. (A commit that does not
// wait, carrying the merge to a later one, was tried: reruns then differ.)
#pragma once

#include <memory>

#include "actors/batch_route.h"
#include "actors/clock_timer.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "base/clock.h"
#include "plan/batch_planner.h"
#include "commit/commit_plan.h"
#include "sink/sink_layout.h"
#include "sink/writer_lease.h"
#include "storage/object_store.h"

namespace freshet {

struct CommitReport {
  Checkpoint checkpoint;  // after the commit
  uint64_t bytes_written = 0;
  double write_seconds = 0;   // segment files + quarantine
  double commit_seconds = 0;  // manifests + CURRENT + retention
  uint64_t deleted_generations = 0;
  Status retention_status;    // retention failures never fail the batch
};

class Committer : public std::enable_shared_from_this<Committer> {
 public:
  struct Outputs {
    Mailbox<ListerMsg>* lister = nullptr;
    Mailbox<PlannerMsg>* planner = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    Mailbox<ControlMsg>* control = nullptr;  // WriterFenced
    Mailbox<MergerMsg>* merger = nullptr;    // optional (no merges without): CheckpointAdvanced
    BatchRoute route;
  };
  struct Config {
    uint32_t retain_generations = 2;
    uint32_t write_parallelism = 8;
    Duration partition_interval{};  // for the freshness lag of each commit
    MergePolicyOptions merge_policy;
  };
  // The writer lease this daemon took at start-up (sink/writer_lease.h),
  // renewed every ttl / 3 on the Clock. A renewal that finds another
  // holder ends the run like a fenced commit.
  struct Lease {
    WriterLease me;
    std::string etag;
    Duration ttl{};
  };
  // `checkpoint` and `current_etag`: the sink's, as RecoverState read them
  // (nullopt: no CURRENT yet). CURRENT is replaced only while it still has
  // the ETag this writer last read or wrote; otherwise another writer owns
  // the sink, the batch fails and RunControl hears WriterFenced.
  // REQUIRES: `sink`, `clock` and the outputs outlive the actor.
  Committer(asio::io_context& io, ObjectStore* sink, Config config, Checkpoint checkpoint,
            std::optional<std::string> current_etag, const Clock* clock, std::optional<Lease> lease = std::nullopt);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();
  Mailbox<CommitterMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  Awaitable<void> OnCommitRequest(CommitRequest m);
  Awaitable<Result<CommitReport>> Commit(BuildPlan plan, BuiltBatch built);
  // The pending merge's segment for a commit of `plan`, or nullptr (none
  // pending, a full batch, the merge failed or never came).
  Awaitable<const BuiltGeneration*> AwaitMerge(const BuildPlan& plan);
  // Carries out `commit`'s steps (each step's crash point first); the last
  // step is CURRENT. Then retention, whose failure only warns.
  Awaitable<Status> RunSteps(CommitPlan& commit, CommitReport* report);
  Awaitable<Status> PutAll(std::vector<PutRequest> puts, bool crash_after_first);
  Awaitable<Status> PutCurrent(PutRequest put);
  Awaitable<void> RenewLease();
  void ArmLease();
  void Fenced(const std::string& reason);
  Awaitable<Result<uint64_t>> ApplyRetention(CurrentPointer current);

  Mailbox<CommitterMsg> mailbox_;
  ObjectStore* sink_;
  Config config_;
  Checkpoint checkpoint_;
  std::optional<std::string> current_etag_;
  const Clock* clock_;
  std::optional<Lease> lease_;
  ClockTimer lease_timer_;
  bool renewing_ = false, fenced_ = false;
  Outputs out_;
  bool committing_ = false;
  // The pending merge's answer from the Merger: merge_settled_ names the
  // merge it is for, merge_ holds its segment (empty when it failed).
  std::string merge_settled_;
  std::optional<BuiltGeneration> merge_;
  asio::steady_timer merge_arrived_;  // cancelled when an answer arrives
  static constexpr std::chrono::seconds kMergeWait{120};
};

}  // namespace freshet
