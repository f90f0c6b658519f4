// Builder actor: fetches a plan's objects with bounded parallelism, decodes
// and parses them on the compute pool (in parallel chunks), builds the
// generations there too (commit/generation_builder.h), and hands the bytes to
// the Committer. The io_context only ever waits; it never computes.
//
// Receives BuildRequest and Ping. A build runs on its own coroutine on the
// strand, so heartbeats are answered while it waits for the pool; one
// build at a time (a second request fails at once). The parsed base
// snapshot is cached between builds (keyed by its objects' identity).
#pragma once

#include <memory>

#include "actors/batch_route.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "base/thread_pool.h"
#include "commit/generation_builder.h"
#include "storage/object_store.h"

namespace freshet {

class Builder : public std::enable_shared_from_this<Builder> {
 public:
  struct Outputs {
    Mailbox<CommitterMsg>* committer = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    BatchRoute route;  // a failed build ends its batch
  };
  // REQUIRES: `source`, `compute` and the outputs outlive the actor.
  Builder(asio::io_context& io, ObjectStore* source, ThreadPool* compute, const Options& options,
          std::string schema_hash);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();
  Mailbox<BuilderMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  Awaitable<void> OnBuildRequest(BuildRequest m);
  Awaitable<Result<BuiltBatch>> Build(std::shared_ptr<const BuildPlan> plan);
  Awaitable<Result<DecodedInput>> FetchAndParse(std::vector<ObjectInfo> objects, double* fetch_s, double* parse_s);

  Mailbox<BuilderMsg> mailbox_;
  ObjectStore* source_;
  ThreadPool* compute_;
  SchemaOptions schema_;
  std::string schema_hash_;
  double max_bad_ratio_;
  uint32_t fetch_parallelism_;
  Outputs out_;
  bool building_ = false;
  std::shared_ptr<const ParsedSnapshot> snapshot_;  // cache
};

}  // namespace freshet
