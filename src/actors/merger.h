// Merger actor: builds the merges that keep the delta chain short (SPEC
// §3, plan/merge_policy.h).
//
// Each batch's commit decides the next merge from the chain alone and
// records it in the checkpoint (pending_merge; commit/commit_plan.h); the
// Committer sends the Merger every checkpoint. For a pending merge it has
// not built, the Merger reads the run's files from the sink, merges them
// on the compute pool (commit/segment_merge.h) beside the batches, writes
// it to the sink (files, then manifest: complete, but named by nothing
// except the pending merge, which retention keeps), and hands it to the
// Committer (MergeReady, or MergeFailed), which makes it live with the
// next batch's commit by naming it in CURRENT. So a merge's bytes (tens of
// MB after a catch-up) are written and synced off the batches' path (the
// commit that carried them spent 160-190 ms in its write stage instead of
// about 10 on the 1M-ad benchmark). Decision and commit points
// depend only on the history of batches, so the chain does not depend on
// how fast merges run; a restart rebuilds a pending merge the same way.
//
// Receives CheckpointAdvanced and Ping. One merge at a time.
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include "actors/mailbox.h"
#include "actors/messages.h"
#include "base/thread_pool.h"
#include "commit/generation_builder.h"
#include "index/manifest.h"
#include "plan/merge_policy.h"
#include "storage/object_store.h"

namespace freshet {

class Merger : public std::enable_shared_from_this<Merger> {
 public:
  struct Outputs {
    Mailbox<CommitterMsg>* committer = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
  };
  // REQUIRES: `sink`, `compute` and the outputs outlive the actor.
  Merger(asio::io_context& io, ObjectStore* sink, ThreadPool* compute, const SchemaOptions& schema,
         std::string schema_hash);

  void Connect(Outputs out) { out_ = out; }
  void Start();
  Mailbox<MergerMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  // Builds checkpoint.pending_merge's segment.
  Awaitable<Result<BuiltGeneration>> Build(Checkpoint checkpoint);
  Awaitable<void> BuildTask(Checkpoint checkpoint);
  // Puts `merged`'s files and manifest in the sink; sets merged.in_sink.
  Awaitable<Status> WriteAhead(BuiltGeneration& merged);
  static constexpr int kWriteAttempts = 6;  // 50 ms backoff, doubling: 1.55 s of waits in all
  static constexpr std::chrono::milliseconds kFirstBackoff{50};
  void MaybeStart();
  Awaitable<Result<Manifest>> ManifestOf(const std::string& id);

  Mailbox<MergerMsg> mailbox_;
  ObjectStore* sink_;
  ThreadPool* compute_;
  SchemaOptions schema_;
  std::string schema_hash_;
  Outputs out_;
  std::optional<Checkpoint> latest_;  // the newest checkpoint heard of
  bool building_ = false;
  std::string built_;                 // the last pending merge answered
  std::map<std::string, Manifest> manifests_;  // cache: segments of the chain
};

}  // namespace freshet
