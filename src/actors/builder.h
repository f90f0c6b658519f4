// Builder actor: fetches a plan's objects with bounded parallelism, decodes
// and parses them on the compute pool (in parallel chunks), builds the
// generations there too (commit/generation_builder.h), and hands the bytes to
// the Committer. The io_context only ever waits; it never computes.
//
// Receives BuildRequest and Ping. A build runs on its own coroutine on the
// strand, so heartbeats are answered while it waits for the pool; one
// build at a time (a second request fails at once). The parsed base
// snapshot is cached between builds (keyed by its objects' identity).
//
// Incremental (SPEC §4): the window's ingested objects are kept between
// builds (ingest/ingested_window.h), so a batch fetches and parses only
// the objects it has not ingested, and commits one delta segment of what
// changed (commit/generation_builder.h: BuildChainBatch). When the state
// does not reflect the chain the plan extends (at a restart, or after a
// batch that did not commit), it is rebuilt once from the chain's
// manifests (read from the sink) and the source; when the source no longer
// holds what the chain ingested, the batch starts a new chain instead.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/batch_route.h"
#include "actors/fetch_parse.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "base/thread_pool.h"
#include "commit/generation_builder.h"
#include "ingest/base_entities.h"
#include "ingest/ingested_window.h"
#include "plan/partition_layout.h"
#include "storage/object_store.h"

namespace freshet {

class Builder : public std::enable_shared_from_this<Builder> {
 public:
  struct Outputs {
    Mailbox<CommitterMsg>* committer = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    // Told to list the whole window again when an object changed or
    // vanished since it was listed. Optional (nullptr: nobody to tell).
    Mailbox<ListerMsg>* lister = nullptr;
    BatchRoute route;  // a failed build ends its batch
  };
  // REQUIRES: `source`, `compute` and the outputs outlive the actor.
  Builder(asio::io_context& io, ObjectStore* source, ObjectStore* sink, ThreadPool* compute, const Options& options,
          std::string schema_hash);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();
  Mailbox<BuilderMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  Awaitable<void> OnBuildRequest(BuildRequest m);
  Awaitable<Result<BuiltBatch>> Build(std::shared_ptr<const BuildPlan> plan);
  struct BuildCounters {
    double fetch_s = 0, parse_s = 0;
    uint64_t objects = 0, bytes = 0;  // read besides the batch's new window objects
    uint64_t rebuilt_objects = 0;     // window objects re-ingested to rebuild the state
    SourceChanges changes;            // how the source changed under the window
  };
  // With `moved`, objects that changed or vanished since they were listed
  // are skipped and named there instead of failing the fetch. Without, such
  // an object fails the fetch (kFailedPrecondition, retried next trigger)
  // and sets source_moved_, so the Lister is told to list the window again.
  // With `consume` (and `moved`), fetch and parse overlap and each parsed
  // part of the input goes to it in key order as it is ready
  // (actors/fetch_parse.h); the result keeps only the counts. When any
  // object moved, what was consumed is incomplete: the caller discards it.
  // max_pending_bytes, piece_bytes, max_pieces_ahead, pack_records (with
  // `consume`): FetchParse's. A
  // consumer that fails stops the fetch and parse; the result is then its
  // status.
  Awaitable<Result<DecodedInput>> FetchAndParse(std::vector<ObjectInfo> objects, double* fetch_s, double* parse_s,
                                                std::shared_ptr<std::vector<std::string>> moved = nullptr,
                                                ChunkConsumer consume = nullptr, uint64_t max_pending_bytes = 0,
                                                size_t piece_bytes = 0, size_t max_pieces_ahead = 0,
                                                bool pack_records = false);
  // The plan's snapshot. For a full batch, streamed: straight into the
  // new full's writers while its records arrive in key order
  // (StreamingFull), else through the external sort (its memory bounded by
  // pipeline.memory_budget), and read once by the build; otherwise (a
  // delta on a full without entities) held, and kept for the next batch on
  // the same snapshot.
  Awaitable<Result<const ParsedSnapshot*>> LoadSnapshot(const BuildPlan& plan, BuildCounters* c);
  Awaitable<Result<std::shared_ptr<ParsedSnapshot>>> StreamSnapshot(const BuildPlan& plan, std::string identity,
                                                                     BuildCounters* c);
  // The failure of a snapshot read in which objects moved (named in
  // `moved`); sets source_moved_.
  Status SourceMoved(std::vector<std::string> moved);
  // How this Builder's builds run (threads, scratch, memory shares).
  GenerationContext BuildContext() const;
  // The pieces a snapshot's big objects are parsed in (FetchParse::piece_bytes).
  size_t PieceBytes() const;
  // The live full's entities segment (ingest/base_entities.h), opened once
  // per full; nullptr when that full has none (written before fulls
  // carried them): the snapshot is parsed instead.
  Awaitable<Result<BaseEntities*>> OpenBaseEntities(const std::string& full_generation);
  // Brings window_ to the window of plan.chain's head. True when it cannot
  // (no chain yet, unreadable manifests, a source that moved): window_ is
  // then empty and the batch starts a new chain.
  Awaitable<Result<bool>> RebuildWindow(const BuildPlan& plan, BuildCounters* c);

  Mailbox<BuilderMsg> mailbox_;
  ObjectStore* source_;
  ObjectStore* sink_;  // read only: the chain's manifests
  ThreadPool* compute_;
  SchemaOptions schema_;
  std::string schema_hash_;
  double max_bad_ratio_;
  uint32_t fetch_parallelism_;
  uint64_t memory_budget_;
  std::string scratch_dir_;
  Outputs out_;
  std::optional<PartitionLayout> layout_;  // to tell which partition a window object is in
  std::string updates_prefix_;
  bool building_ = false;
  std::string source_moved_;  // a key that changed under the batch in flight ("" = none)
  std::shared_ptr<const ParsedSnapshot> snapshot_;  // cache
  // Whether the next full's snapshot is expected in key order: at first,
  // and after a snapshot that came so (StreamSnapshot).
  bool snapshots_in_key_order_ = true;
  IngestedWindow window_;                           // touched only by the build in flight
  std::shared_ptr<ObjectStore> shared_sink_;        // sink_, unowned: for ranged reads
  std::shared_ptr<BaseEntities> entities_;          // of full entities_full_
  std::string entities_full_;
  // Decoded blocks of the full's entities kept across batches, and as much
  // again of its index's stored blocks. At 1M ads (perf/delta_latency.sh):
  // 256 MiB cost 220 MB of RSS for ~8% faster lookups (the lookups' own
  // decoding, not cache misses, dominates), and 64 MiB held 64 MB more than
  // 32 MiB with no step latency to show for it (build p50 955 / 831 / 676 ms
  // at 1 h / 5 h / 12 h with 32 MiB; 1,146 / 775 / 706 with 64 MiB).
  // Each batch's fan-out reads other campaigns' children than the last.
  static constexpr size_t kEntitiesBlockCache = size_t{32} << 20;
  // Free heap kept after a batch for the next one (ReleaseFreeMemory), so
  // it does not fault all its scratch back in. 128 MiB (about what a
  // one-partition batch at 1M ads allocates and frees) was set when the
  // window's records fragmented the heap; since they are packed per object
  // (31df5c7) perf/delta_latency.sh measured, with 128 / 64 / 32 MiB: RSS
  // after the 5 h steps 607 / 581 / 554 MiB, trigger->commit p99 at 5 h
  // 664 / 888 / 797 ms and at 12 h 819 / 714 / 740 ms (one run each: the
  // latency moved by less than its noise). The base records a batch
  // decoded are freed after the release, so about 40 MB more stays.
  static constexpr size_t kBatchSpareBytes = size_t{32} << 20;
  std::vector<std::string> window_warnings_;
};

}  // namespace freshet
