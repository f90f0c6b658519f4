// Builder actor: fetches a plan's objects with bounded parallelism, decodes
// and parses them on the compute pool (in parallel chunks), builds the
// generations there too (sink/generation_builder.h), and hands the bytes to
// the Committer. The io_context only ever waits; it never computes.
//
// Strand: one build at a time, on the mailbox's strand. The parsed base
// snapshot is cached between builds (keyed by its objects' identity).
#pragma once

#include <functional>
#include <memory>

#include "actors/mailbox.h"
#include "base/thread_pool.h"
#include "sink/generation_builder.h"
#include "storage/object_store.h"

namespace freshet {

class Builder : public std::enable_shared_from_this<Builder> {
 public:
  using Done = std::function<void(Result<BuiltBatch>)>;
  Builder(asio::io_context& io, ObjectStore* source, ThreadPool* compute, const Options& options,
          std::string schema_hash);

  void Build(BuildPlan plan, Done done);
  void Ping(std::function<void()> pong);
  Mailbox& mailbox() { return mailbox_; }

 private:
  struct Fetched;
  Awaitable<void> RunBuild(BuildPlan plan, Done done);
  Awaitable<Result<DecodedInput>> FetchAndParse(std::vector<ObjectInfo> objects, double* fetch_s, double* parse_s);

  Mailbox mailbox_;
  ObjectStore* source_;
  ThreadPool* compute_;
  SchemaOptions schema_;
  std::string schema_hash_;
  double max_bad_ratio_;
  uint32_t fetch_parallelism_;
  std::shared_ptr<const ParsedSnapshot> snapshot_;  // cache
};

}  // namespace freshet
