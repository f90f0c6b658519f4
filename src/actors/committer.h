// Committer actor: makes a built batch durable and visible by carrying out
// its commit plan (sink/commit_plan.h: files, manifests, CURRENT with the
// embedded checkpoint, then retention), in the one order that keeps every
// crash harmless.
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
  double commit_seconds = 0;  // manifests + CURRENT + retention
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
  Awaitable<Result<uint64_t>> ApplyRetention(const CurrentPointer& current);

  Mailbox mailbox_;
  ObjectStore* sink_;
  uint32_t retain_;
  uint32_t write_parallelism_;
};

}  // namespace freshet
