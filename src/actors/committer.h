// Committer actor: makes a built batch durable and visible, in the one
// order that keeps every crash harmless:
//   1. segment files (and quarantine) of the full, then of the delta
//   2. manifests (a generation is complete once its manifest exists)
//   3. CURRENT (readers switch here, atomically)
//   4. the checkpoint (the durable watermark)
//   5. retention: delete generations no CURRENT can name any more
// A crash anywhere leaves the previous CURRENT valid; the restart re-plans
// the same batch and rewrites the same bytes under the same keys.
//
// Strand: one commit at a time, on the mailbox's strand.
#pragma once

#include <functional>
#include <memory>

#include "actors/mailbox.h"
#include "plan/batch_planner.h"
#include "sink/built_batch.h"
#include "sink/sink_layout.h"
#include "storage/object_store.h"

namespace freshet {

struct CommitReport {
  Checkpoint checkpoint;  // after the commit
  uint64_t bytes_written = 0;
  double write_seconds = 0;   // segment files + quarantine
  double commit_seconds = 0;  // manifests + CURRENT + checkpoint + retention
  uint64_t deleted_generations = 0;
  Status retention_status;    // retention failures never fail the batch
};

class Committer : public std::enable_shared_from_this<Committer> {
 public:
  using Done = std::function<void(Result<CommitReport>)>;
  Committer(asio::io_context& io, ObjectStore* sink, uint32_t retain_generations, uint32_t write_parallelism);

  // `before`: the checkpoint the plan was made against.
  void Commit(BuildPlan plan, BuiltBatch built, Checkpoint before, Done done);
  void Ping(std::function<void()> pong);
  Mailbox& mailbox() { return mailbox_; }

 private:
  Awaitable<void> RunCommit(BuildPlan plan, BuiltBatch built, Checkpoint before, Done done);
  Awaitable<Status> PutAll(std::vector<PutRequest> puts, bool crash_after_first);
  Awaitable<Status> Put(std::string key, std::string body);
  Awaitable<Result<uint64_t>> ApplyRetention(const CurrentPointer& current);

  Mailbox mailbox_;
  ObjectStore* sink_;
  uint32_t retain_;
  uint32_t write_parallelism_;
};

}  // namespace freshet
