#include "actors/builder.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include <spdlog/spdlog.h>

#include "actors/bounded_parallel.h"
#include "actors/compute_await.h"
#include "actors/fetch_parse.h"
#include "actors/store_await.h"
#include "base/bulk_allocation.h"
#include "base/elapsed.h"
#include "base/release_memory.h"
#include "commit/segment_chain.h"
#include "index/manifest.h"
#include "reader/store_range_source.h"
#include "sink/sink_layout.h"

namespace freshet {

// pipeline.memory_budget's shares in a full build, as divisors. The parsed
// records held before a sorted run spills take 1/16; the input fetched
// and not yet in the sorter (bodies, and parsed records waiting while the
// sorter writes a run) 1/16 of body bytes; the writers' in-memory indexes
// 1/8 each; their per-document entries (ids, about 70 bytes a document,
// not yet bounded) and the rest of the build what is left. A record held
// costs about twice what RecordFootprint counts once the allocator's and
// the chunk being added are in (heaptrack), hence the small share. Runs of
// 64 MiB at the default keep the merge's fan-in modest (a 20 GB snapshot: a
// few hundred runs), and spilling costs less than it saves: at 500k
// documents a build that spills runs spent no more CPU than one that held
// every record, and less system time (fewer page faults). A fetch-ahead of
// 1/32 left the parse waiting on the sorter's runs: 1M documents took 16 s
// instead of 12.
constexpr uint64_t kSorterShare = 16;
constexpr uint64_t kFetchAheadShare = 16;
// A snapshot's big objects are read and parsed in pieces of 1/256 of the
// budget (4 MiB at the default; actors/fetch_parse.h). Streamed into a
// full, the pool's threads + 1 pieces are parsed ahead of its writers, and
// 1/64 of the budget is fetched ahead: the input waiting for them is a few
// tens of MB, not a few objects' worth. With 20 MB objects read and parsed
// whole, 60 MB of bodies and 120 MB of records waited for the writers, and
// that memory's first touch alone (about 1.8 ms per MB on the 2-core VM)
// was a tenth of the build's CPU.
constexpr uint64_t kPieceShare = 256;
constexpr uint64_t kStreamAheadShare = 64;
// Each of the full's two writers (documents, entities) keeps its in-memory
// index (postings lists, terms) to an eighth, spilling sorted runs past it
// (index/segment_writer.h index_memory_bytes) that Finish merges.
constexpr uint64_t kIndexShare = 8;
namespace {

using FetchedObjects = std::vector<std::pair<ObjectInfo, std::string>>;

// GETs every object (at most `parallelism` at once) and checks that each is
// still the object that was listed: one that changed (ETag or size) or
// vanished is not fetched but named in *moved, its slot left empty (key
// ""); the caller decides what that means.
struct FetchAllStart {
  ObjectStore* store;
  std::vector<ObjectInfo> objects;
  size_t parallelism;
  std::shared_ptr<std::vector<std::string>> moved;  // never null
  void operator()(StoreCallback<FetchedObjects> done) {
    auto out = std::make_shared<FetchedObjects>(objects.size());
    auto objs = std::make_shared<std::vector<ObjectInfo>>(std::move(objects));
    auto mu = std::make_shared<std::mutex>();
    BoundedParallel::Run(
        objs->size(), parallelism,
        [store = store, objs, out, moved = moved, mu](size_t i, std::function<void(Status)> complete) {
          GetRequest req;
          req.key = (*objs)[i].key;
          store->Get(std::move(req), [objs, out, i, complete, moved, mu](Result<GetResult> r) {
            const ObjectInfo& want = (*objs)[i];
            const bool gone = !r.ok() && r.status().code() == StatusCode::kNotFound;
            if (gone || (r.ok() && (r->info.etag != want.etag || r->body.size() != want.size))) {
              std::lock_guard<std::mutex> lock(*mu);
              moved->push_back(want.key);
              return complete(Status::Ok());
            }
            if (!r.ok()) return complete(r.status().WithContext("get " + want.key));
            (*out)[i] = {want, std::move(r->body)};
            complete(Status::Ok());
          });
        },
        [out, done](Status st) {
          if (st.ok()) done(std::move(*out));
          else done(st);
        });
  }
};

// Decodes and parses contiguous chunks of the fetched objects on the pool,
// one task per chunk, then concatenates in key order.
struct ParseAllStart {
  ThreadPool* pool;
  const SchemaOptions* schema;
  std::shared_ptr<FetchedObjects> fetched;
  void operator()(StoreCallback<DecodedInput> done) {
    size_t n = fetched->size();
    // Several chunks per thread: objects differ in size (LZ4 or not), and a
    // chunk's bodies are freed as soon as it is parsed.
    size_t chunks = std::max<size_t>(1, std::min(n, pool->thread_count() * 8));
    auto parts = std::make_shared<std::vector<DecodedInput>>(chunks);
    BoundedParallel::Run(
        chunks, pool->thread_count(),
        [pool = pool, schema = schema, fetched = fetched, parts, n, chunks](size_t c,
                                                                             std::function<void(Status)> complete) {
          bool ok = pool->TrySubmit([schema, fetched, parts, n, chunks, c, complete] {
            size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
            FetchedObjects slice(std::make_move_iterator(fetched->begin() + begin),
                                 std::make_move_iterator(fetched->begin() + end));
            (*parts)[c] = DecodeAndParse(*schema, slice);
            complete(Status::Ok());
          });
          if (!ok) complete(Status::Unavailable("compute pool \"" + pool->name() + "\" is full"));
        },
        [parts, done](Status st) {
          if (!st.ok()) return done(st);
          DecodedInput all;
          size_t records = 0, bad = 0;
          for (const auto& p : *parts) {
            records += p.records.size();
            bad += p.bad.size();
          }
          all.records.reserve(records);
          all.bad.reserve(bad);
          for (auto& p : *parts) {
            all.records.insert(all.records.end(), std::make_move_iterator(p.records.begin()),
                               std::make_move_iterator(p.records.end()));
            all.bad.insert(all.bad.end(), std::make_move_iterator(p.bad.begin()),
                           std::make_move_iterator(p.bad.end()));
            all.AddCounts(p);
            p = DecodedInput();  // its records are moved-from shells: free them now
          }
          done(std::move(all));
        });
  }
};

}  // namespace

Builder::Builder(asio::io_context& io, ObjectStore* source, ObjectStore* sink, ThreadPool* compute,
                 const Options& options, std::string schema_hash)
    : mailbox_(io, "builder", 8), source_(source), sink_(sink), compute_(compute), schema_(options.schema),
      schema_hash_(std::move(schema_hash)), max_bad_ratio_(options.pipeline.max_bad_ratio),
      fetch_parallelism_(options.pipeline.fetch_parallelism), memory_budget_(options.pipeline.memory_budget),
      scratch_dir_(ScratchDir(options.pipeline)), updates_prefix_(options.source.updates_prefix),
      shared_sink_(std::shared_ptr<ObjectStore>(), sink) {
  // Validated options always give a layout; without one, objects are just
  // not classified as late or changed.
  if (auto layout = PartitionLayout::Create(options.source.layout, options.source.partition_interval); layout.ok()) {
    layout_ = std::move(layout).value();
  }
  // The window's records are held between batches: only what documents read of them.
  window_.ProjectRecords(schema_);
}

void Builder::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Builder::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  while (std::optional<BuilderMsg> msg = co_await mailbox_.Receive()) {
    if (auto* req = std::get_if<BuildRequest>(&*msg)) {
      if (building_) {
        BatchProgress p = std::move(req->progress);
        p.outcome = BatchOutcome::kFailed;
        p.message = "builder: another build is in flight";
        out_.route.End(p);
        continue;
      }
      building_ = true;
      asio::co_spawn(mailbox_.strand(), OnBuildRequest(std::move(*req)), asio::detached);
    } else if (auto* ping = std::get_if<Ping>(&*msg)) {
      (void)out_.watchdog->Post(Pong{"builder", ping->seq});
    }
  }
}

size_t Builder::PieceBytes() const {
  return static_cast<size_t>(std::max<uint64_t>(memory_budget_ / kPieceShare, 64 * 1024));
}

GenerationContext Builder::BuildContext() const {
  GenerationContext ctx{&schema_, schema_hash_, max_bad_ratio_};
  // The build is one pool task, the only one a batch runs at this point; it
  // spreads its parts over the same pool (itself one worker). (A streaming
  // full's parts run in the parse's consumer, also one pool task.)
  ctx.threads = compute_->thread_count();
  ctx.pool = compute_;
  ctx.spool_dir = scratch_dir_;  // a full's "stored" goes to disk as it is encoded
  ctx.index_memory_bytes = memory_budget_ / kIndexShare;
  return ctx;
}

Awaitable<void> Builder::OnBuildRequest(BuildRequest m) {
  auto self = shared_from_this();
  BatchProgress& p = m.progress;
  auto plan = std::make_shared<const BuildPlan>(std::move(m.plan));
  source_moved_.clear();
  Result<BuiltBatch> built = co_await Build(plan);
  building_ = false;
  if (!source_moved_.empty() && out_.lister != nullptr) {
    // Before the batch ends: the next trigger's listing then sees it.
    (void)out_.lister->Post(RelistWindow{"object " + source_moved_ + " changed or vanished since it was listed"});
  }
  if (!built.ok()) {
    p.outcome = BatchOutcome::kFailed;
    p.message = built.status().ToString();
    out_.route.End(p);
    co_return;
  }
  p.seconds(Stage::kFetch) = built->fetch_seconds;
  p.seconds(Stage::kParse) = built->parse_seconds;
  p.seconds(Stage::kBuild) = built->build_seconds;
  p.stages_reached = 5;
  p.objects = built->objects;
  p.bytes = built->bytes;
  p.records = built->records;
  p.bad_records = built->bad_records;
  p.late_objects = built->late_objects;
  p.changed_objects = built->changed_objects;
  p.docs = built->delta.docs;
  p.tombstones = built->delta.tombstones;
  p.terms = built->delta.terms;
  p.output_bytes = built->delta.output_bytes + (built->full ? built->full->output_bytes : 0);
  if (built->full) {
    p.message = "full: docs=" + std::to_string(built->full->docs) + " terms=" + std::to_string(built->full->terms);
    p.full_docs = static_cast<int64_t>(built->full->docs);
    p.full_terms = static_cast<int64_t>(built->full->terms);
  }
  BatchProgress report = p;  // kept for the failure path: the request moves
  Delivery sent = out_.committer->Post(CommitRequest{std::move(p), *plan, std::move(built).value()});
  if (!Delivered(sent)) {
    report.outcome = BatchOutcome::kFailed;
    report.message = "committer mailbox refused the batch";
    out_.route.End(report);
  }
}

Awaitable<Result<DecodedInput>> Builder::FetchAndParse(std::vector<ObjectInfo> objects, double* fetch_s,
                                                        double* parse_s,
                                                        std::shared_ptr<std::vector<std::string>> moved,
                                                        ChunkConsumer consume, uint64_t max_pending_bytes,
                                                        size_t piece_bytes, size_t max_pieces_ahead,
                                                        bool pack_records) {
  auto t0 = std::chrono::steady_clock::now();
  if (consume) {
    // Fetch and parse overlap (actors/fetch_parse.h): the time is the parse's.
    FetchParse run;
    run.store = source_;
    run.pool = compute_;
    run.schema = &schema_;
    run.objects = std::move(objects);
    run.parallelism = fetch_parallelism_;
    run.moved = std::move(moved);
    run.consume = std::move(consume);
    run.max_pending_bytes = max_pending_bytes;
    run.piece_bytes = piece_bytes;
    run.max_pieces_ahead = max_pieces_ahead;
    run.pack_records = pack_records;
    Result<DecodedInput> counts = co_await AwaitStore<DecodedInput>(std::move(run));
    *parse_s += SecondsSince(t0);
    co_return counts;
  }
  const bool strict = moved == nullptr;
  if (strict) moved = std::make_shared<std::vector<std::string>>();
  FetchAllStart fetch{source_, std::move(objects), fetch_parallelism_, moved};
  Result<FetchedObjects> fetched = co_await AwaitStore<FetchedObjects>(std::move(fetch));
  *fetch_s += SecondsSince(t0);
  if (!fetched.ok()) co_return fetched.status();
  if (strict && !moved->empty()) {
    // The listing is stale: the plan named versions the source no longer
    // holds. Nothing is built from it; the whole window is listed again
    // (OnBuildRequest tells the Lister) and the next trigger retries.
    std::sort(moved->begin(), moved->end());
    source_moved_ = moved->front();
    co_return Status::FailedPrecondition(std::to_string(moved->size()) + " object(s) changed or vanished since " +
                                         "they were listed (first: " + moved->front() +
                                         "); listing the whole window again for the next trigger");
  }
  std::erase_if(*fetched, [](const auto& f) { return f.first.key.empty(); });
  auto t1 = std::chrono::steady_clock::now();
  ParseAllStart parse{compute_, &schema_, std::make_shared<FetchedObjects>(std::move(fetched).value())};
  Result<DecodedInput> decoded = co_await AwaitStore<DecodedInput>(std::move(parse));
  *parse_s += SecondsSince(t1);
  co_return decoded;
}

Awaitable<Result<const ParsedSnapshot*>> Builder::LoadSnapshot(const BuildPlan& plan, BuildCounters* c) {
  // The base snapshot: parsed once, reused by every delta on it.
  if (!plan.snapshot_time || plan.snapshot_objects.empty()) {
    snapshot_.reset();
    co_return static_cast<const ParsedSnapshot*>(nullptr);
  }
  std::string identity = FullGenerationId(schema_hash_, *plan.snapshot_time, plan.snapshot_objects);
  // (A streamed snapshot is read by one build only.)
  if (snapshot_ && snapshot_->identity == identity && !snapshot_->streamed()) co_return snapshot_.get();
  snapshot_.reset();  // free the old one before reading the new one
  if (plan.kind == BatchKind::kFullAndDelta) {
    Result<std::shared_ptr<ParsedSnapshot>> streamed = co_await StreamSnapshot(plan, std::move(identity), c);
    if (!streamed.ok()) co_return streamed.status().WithContext("snapshot");
    snapshot_ = std::move(streamed).value();
    co_return snapshot_.get();
  }
  Result<DecodedInput> decoded = co_await FetchAndParse(plan.snapshot_objects, &c->fetch_s, &c->parse_s);
  if (!decoded.ok()) co_return decoded.status().WithContext("snapshot");
  c->objects += decoded->objects;
  c->bytes += decoded->bytes;
  auto t = std::chrono::steady_clock::now();
  std::function<Result<ParsedSnapshot>()> work = [identity, d = std::make_shared<DecodedInput>(
                                                                std::move(decoded).value())]() mutable {
    return Result<ParsedSnapshot>(MakeParsedSnapshot(identity, std::move(*d)));
  };
  Result<ParsedSnapshot> parsed = co_await AwaitCompute<ParsedSnapshot>(compute_, std::move(work));
  c->parse_s += SecondsSince(t);
  if (!parsed.ok()) co_return parsed.status();
  snapshot_ = std::make_shared<const ParsedSnapshot>(std::move(parsed).value());
  co_return snapshot_.get();
}

Status Builder::SourceMoved(std::vector<std::string> moved) {
  // As a fetch of the whole list would (FetchAndParse without `moved`).
  std::sort(moved.begin(), moved.end());
  source_moved_ = moved.front();
  return Status::FailedPrecondition(std::to_string(moved.size()) + " object(s) changed or vanished since " +
                                    "they were listed (first: " + moved.front() +
                                    "); listing the whole window again for the next trigger");
}

Awaitable<Result<std::shared_ptr<ParsedSnapshot>>> Builder::StreamSnapshot(const BuildPlan& plan,
                                                                            std::string identity,
                                                                            BuildCounters* c) {
  if (snapshots_in_key_order_) {
    // Each parsed piece goes into the full's writers as soon as the pieces
    // before it have (one at a time, on a pool thread), overlapping the
    // fetch and parse of the pieces after it: nothing is held or sorted.
    struct Feed {
      std::shared_ptr<StreamingFull> full;
      std::vector<QuarantineEntry> bad;
    };
    auto feed = std::make_shared<Feed>();
    feed->full = std::make_shared<StreamingFull>(BuildContext());
    // Each piece's records come packed into one arena (FetchParse::
    // pack_records), which the full keeps until it has written them.
    ChunkConsumer consume = [feed](std::vector<ObjectInfo>, DecodedInput* part) {
      for (QuarantineEntry& q : part->bad) feed->bad.push_back(std::move(q));
      return feed->full->Add(&part->records, std::move(part->arena));
    };
    auto moved = std::make_shared<std::vector<std::string>>();
    Result<DecodedInput> counts = co_await FetchAndParse(plan.snapshot_objects, &c->fetch_s, &c->parse_s, moved,
                                                         std::move(consume), memory_budget_ / kStreamAheadShare,
                                                         PieceBytes(), 0, /*pack_records=*/true);
    if (!feed->full->out_of_order()) {
      if (!counts.ok()) co_return counts.status();
      if (!moved->empty()) co_return SourceMoved(std::move(*moved));
      c->objects += counts->objects;
      c->bytes += counts->bytes;
      auto s = std::make_shared<ParsedSnapshot>();
      s->identity = std::move(identity);
      s->streaming = std::move(feed->full);
      s->bad = std::move(feed->bad);
      s->objects = counts->objects;
      s->bytes = counts->bytes;
      s->records_total = counts->records_total;
      co_return s;
    }
    // What was parsed so far went into a full that is dropped; the
    // snapshot is read again and sorted. Later snapshots are sorted from
    // the start, until one arrives in order (RecordSorter::in_key_order).
    spdlog::info("builder: batch {}: {}; sorting the snapshot instead", plan.batch_id, counts.status().message());
    snapshots_in_key_order_ = false;
  }
  // Each parsed piece goes to the sorter as soon as the pieces before it
  // have (one at a time, on a pool thread), overlapping the fetch and parse
  // of the pieces after it; past its share of the budget it spills a
  // sorted run.
  struct Sink {
    std::unique_ptr<RecordSorter> sorter;
    std::vector<QuarantineEntry> bad;
  };
  auto sink = std::make_shared<Sink>();
  sink->sorter = std::make_unique<RecordSorter>(RecordSorterOptions{memory_budget_ / kSorterShare, scratch_dir_});
  ChunkConsumer feed = [sink](std::vector<ObjectInfo>, DecodedInput* part) {
    for (QuarantineEntry& q : part->bad) sink->bad.push_back(std::move(q));
    return sink->sorter->Add(&part->records);  // a failure (writing a run) stops the read
  };
  auto moved = std::make_shared<std::vector<std::string>>();
  // The sorter writes a run now and then: the parse goes on meanwhile, up
  // to the whole fetch-ahead's worth of pieces.
  Result<DecodedInput> counts =
      co_await FetchAndParse(plan.snapshot_objects, &c->fetch_s, &c->parse_s, moved, std::move(feed),
                             memory_budget_ / kFetchAheadShare, PieceBytes(), kPieceShare / kFetchAheadShare);
  if (!counts.ok()) co_return counts.status();
  if (!moved->empty()) co_return SourceMoved(std::move(*moved));
  snapshots_in_key_order_ = sink->sorter->in_key_order();
  c->objects += counts->objects;
  c->bytes += counts->bytes;
  if (sink->sorter->runs_written() > 0) {
    spdlog::info("builder: batch {}: the snapshot's records spilled to {} sorted run(s), {} bytes, in {}",
                 plan.batch_id, sink->sorter->runs_written(), sink->sorter->bytes_written(), scratch_dir_);
  }
  auto t = std::chrono::steady_clock::now();
  // Sorting the records still held is the parse's last step: on the pool.
  std::function<Result<std::shared_ptr<SortedRecords>>()> finish =
      [sink]() -> Result<std::shared_ptr<SortedRecords>> {
    FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<SortedRecords> sorted, sink->sorter->Finish());
    return std::shared_ptr<SortedRecords>(std::move(sorted));
  };
  Result<std::shared_ptr<SortedRecords>> sorted =
      co_await AwaitCompute<std::shared_ptr<SortedRecords>>(compute_, std::move(finish));
  c->parse_s += SecondsSince(t);
  if (!sorted.ok()) co_return sorted.status();
  auto s = std::make_shared<ParsedSnapshot>();
  s->identity = std::move(identity);
  s->sorted = std::move(sorted).value();
  s->bad = std::move(sink->bad);
  s->objects = counts->objects;
  s->bytes = counts->bytes;
  s->records_total = counts->records_total;
  co_return s;
}

Awaitable<Result<BaseEntities*>> Builder::OpenBaseEntities(const std::string& full) {
  if (entities_ && entities_full_ == full) {
    entities_->ForgetRecords();  // the last batch's records; its blocks stay cached
    co_return entities_.get();
  }
  entities_.reset();
  entities_full_.clear();
  GetRequest req;
  req.key = GenerationFileKey(full, kManifestName);
  Result<GetResult> got = co_await AwaitGet(sink_, std::move(req));
  if (!got.ok()) co_return got.status().WithContext("reading the live full's manifest");
  Result<Manifest> m = ParseManifest(got->body);
  if (!m.ok()) co_return m.status().WithContext(full);
  // Its entities segment, and its index (leaf records read their stored
  // values from the index's documents).
  auto sizes = std::make_shared<std::map<std::string, uint64_t>>();
  bool has_entities = false;
  for (const ManifestFile& f : m->files) {
    (*sizes)[f.name] = f.size;
    has_entities = has_entities || f.name.starts_with(kEntitiesFilePrefix);
  }
  if (!has_entities) co_return static_cast<BaseEntities*>(nullptr);
  SegmentReader::FileOpener open = [sink = shared_sink_, full, sizes](const std::string& name)
      -> Result<std::unique_ptr<RandomAccessSource>> {
    auto it = sizes->find(name);
    if (it == sizes->end()) return Status::NotFound("the full's manifest lists no " + name);
    return StoreRangeSource(sink, GenerationFileKey(full, name), it->second);
  };
  // Opening reads footers and sparse indexes (blocking ranged reads): on the pool.
  std::function<Result<std::shared_ptr<BaseEntities>>()> work = [open, schema = &schema_]() -> Result<std::shared_ptr<BaseEntities>> {
    FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<BaseEntities> e, BaseEntities::Open(open, *schema, kEntitiesBlockCache));
    return std::shared_ptr<BaseEntities>(std::move(e));
  };
  Result<std::shared_ptr<BaseEntities>> opened = co_await AwaitCompute<std::shared_ptr<BaseEntities>>(compute_, std::move(work));
  if (!opened.ok()) co_return opened.status().WithContext("opening the entities of " + full);
  entities_ = std::move(opened).value();
  entities_full_ = full;
  co_return entities_.get();
}

Awaitable<Result<bool>> Builder::RebuildWindow(const BuildPlan& plan, BuildCounters* c) {
  window_.Clear();
  if (plan.chain.empty()) co_return true;  // nothing to extend: the segment starts the chain
  // The chain's manifests say which objects its head reflects.
  std::vector<Manifest> manifests;
  for (const std::string& id : plan.chain) {
    GetRequest req;
    req.key = GenerationFileKey(id, kManifestName);
    Result<GetResult> got = co_await AwaitGet(sink_, std::move(req));
    Result<Manifest> m = got.ok() ? ParseManifest(got->body) : Result<Manifest>(got.status());
    if (!m.ok()) {
      const StatusCode code = m.status().code();
      if (code != StatusCode::kNotFound && code != StatusCode::kDataLoss) {
        co_return m.status().WithContext("reading the chain's manifest " + id);  // retried next trigger
      }
      window_warnings_.push_back("chain segment " + id + ": " + m.status().ToString() +
                                 "; starting a new chain from the whole window");
      co_return true;
    }
    manifests.push_back(std::move(m).value());
  }
  Result<std::vector<ObjectInfo>> objects = ChainWindow(manifests, plan.full_generation);
  if (!objects.ok()) {
    window_warnings_.push_back(objects.status().ToString() + "; starting a new chain from the whole window");
    co_return true;
  }
  // Each parsed group of whole objects goes into the state as soon as the
  // ones before it have (in key order, as one Apply of everything would):
  // the state's single-threaded inserts overlap the parse of the ones after
  // it. (No piece_bytes: Apply takes an object's records in one call.)
  auto moved = std::make_shared<std::vector<std::string>>();
  IngestedWindow* w = &window_;
  BulkAllocationScope bulk;  // the whole window's records, at once (base/bulk_allocation.h)
  w->state().SetTracking(false);  // the chain already shows all of it
  ChunkConsumer apply = [w](std::vector<ObjectInfo> chunk, DecodedInput* part) {
    WindowDiff diff;
    diff.fetch = std::move(chunk);
    w->Apply(diff, std::move(*part));
    return Status();
  };
  Result<DecodedInput> decoded = co_await FetchAndParse(*objects, &c->fetch_s, &c->parse_s, moved, std::move(apply));
  w->state().SetTracking(true);
  if (!decoded.ok()) co_return decoded.status().WithContext("rebuilding the window of chain " + plan.chain.back());
  if (!moved->empty()) {
    window_.Clear();  // it took in the rest of the window: start empty
    std::sort(moved->begin(), moved->end());
    c->changes.vanished += moved->size();  // rewritten or gone: the chain's version is not there
    if (c->changes.first_changed.empty()) c->changes.first_changed = moved->front();
    // The source no longer holds what the chain was built from: the state
    // the chain shows cannot be rebuilt, so the batch starts a new chain.
    window_warnings_.push_back(std::to_string(moved->size()) + " object(s) the delta chain ingested changed or "
                               "vanished in the source (first: " + moved->front() +
                               "); starting a new chain from the whole window");
    co_return true;
  }
  c->objects += decoded->objects;
  c->bytes += decoded->bytes;
  c->rebuilt_objects = objects->size();
  window_.head = plan.chain.back();
  window_.base = plan.full_generation;
  co_return false;
}

Awaitable<Result<BuiltBatch>> Builder::Build(std::shared_ptr<const BuildPlan> shared_plan) {
  const BuildPlan& plan = *shared_plan;
  BuildCounters c;
  window_warnings_.clear();
  // A full parses its snapshot and indexes all of it (base/bulk_allocation.h).
  std::optional<BulkAllocationScope> bulk;
  if (plan.kind == BatchKind::kFullAndDelta) bulk.emplace();
  // The base: a delta on a full reads the full's entities as its fan-out
  // needs them; a full batch (or a full without entities) parses the snapshot.
  BaseEntities* entities = nullptr;
  if (plan.kind == BatchKind::kDelta && !plan.full_generation.empty()) {
    Result<BaseEntities*> opened = co_await OpenBaseEntities(plan.full_generation);
    if (!opened.ok()) co_return opened.status();
    entities = *opened;
  }
  if (entities != nullptr) snapshot_.reset();  // not needed: free it
  Result<const ParsedSnapshot*> snapshot = static_cast<const ParsedSnapshot*>(nullptr);
  if (entities == nullptr) snapshot = co_await LoadSnapshot(plan, &c);
  if (!snapshot.ok()) co_return snapshot.status();

  // The window state must reflect the chain this batch extends. A full
  // batch starts a new chain on its new base; the window's objects stay.
  bool starts_chain = plan.kind == BatchKind::kFullAndDelta;
  bool state_known = !window_.head.empty();  // it reflects a committed chain
  if (!starts_chain) {
    const bool extends = !plan.chain.empty() && window_.head == plan.chain.back() &&
                         window_.base == plan.full_generation;
    if (!extends) {
      Result<bool> fresh = co_await RebuildWindow(plan, &c);
      if (!fresh.ok()) {
        window_.Clear();
        co_return fresh.status();
      }
      starts_chain = *fresh;
      state_known = !*fresh;
    }
  }

  WindowDiff diff = window_.Diff(plan.window_objects);
  if (state_known && layout_) {
    // Against the committed chain's state, the diff also says how the
    // source changed under it (counted; the batch reflects the listing).
    PartitionOfKey partition_of = [this](std::string_view key) -> std::optional<TimePoint> {
      if (!key.starts_with(updates_prefix_)) return std::nullopt;
      return layout_->ParseKey(key.substr(updates_prefix_.size()));
    };
    SourceChanges ch = ClassifyChanges(diff, partition_of, plan.window_start, plan.previous_watermark);
    c.changes.late += ch.late;
    c.changes.rewritten += ch.rewritten;
    c.changes.vanished += ch.vanished;
    if (c.changes.first_late.empty()) c.changes.first_late = ch.first_late;
    if (c.changes.first_changed.empty()) c.changes.first_changed = ch.first_changed;
  }
  Result<DecodedInput> fetched = co_await FetchAndParse(diff.fetch, &c.fetch_s, &c.parse_s);
  if (!fetched.ok()) co_return fetched.status().WithContext("window");
  // Refused before the state moves: a rejected batch leaves it as it was.
  Status ratio = CheckBadRatio(window_.SummaryAfter(diff, *fetched), max_bad_ratio_);
  if (!ratio.ok()) co_return ratio.WithContext("window ending " + (plan.target ? FormatRfc3339(*plan.target) : "-"));

  auto t = std::chrono::steady_clock::now();
  const GenerationContext ctx = BuildContext();
  // The counts and quarantine of the new input stay here; its records move
  // into the window.
  auto meta = std::make_shared<DecodedInput>();
  meta->bad = fetched->bad;
  meta->AddCounts(*fetched);
  auto shared_diff = std::make_shared<WindowDiff>(std::move(diff));
  auto input = std::make_shared<DecodedInput>(std::move(fetched).value());
  std::shared_ptr<const ParsedSnapshot> snap = snapshot_;
  IngestedWindow* w = &window_;
  window_.head.clear();  // from here on the state is ahead of the committed chain until this succeeds
  std::shared_ptr<BaseEntities> base = entities != nullptr ? entities_ : nullptr;
  std::function<Result<BuiltBatch>()> work = [ctx, shared_plan, snap, base, w, shared_diff, input, meta, starts_chain] {
    w->Apply(*shared_diff, std::move(*input));
    Result<BuiltBatch> built =
        BuildChainBatch(ctx, *shared_plan, snap.get(), *w, *shared_diff, *meta, starts_chain, base.get());
    // The encoders' scratch: the bytes to commit are all that stays, and
    // about what the next delta batch needs again, kept (release_memory.h).
    ReleaseFreeMemory(kBatchSpareBytes);
    // The base records the fan-out decoded, freed here on the pool rather
    // than when the next batch opens the base on the Builder's strand: a
    // catch-up batch decodes most of the base, and freeing that held the
    // strand inside the next batch's latency. Freed after the release,
    // their pages stay with the allocator for the next batch (not handed
    // back to be faulted in again: +150-250 ms a batch, measured).
    if (base) base->ForgetRecords();
    return built;
  };
  Result<BuiltBatch> built = co_await AwaitCompute<BuiltBatch>(compute_, std::move(work));
  if (snap && snap->streamed()) snapshot_.reset();  // read (or failed part way): its runs go now
  if (!built.ok()) co_return built;
  // The next deltas read the new full's entities: the parse is done with.
  if (plan.kind == BatchKind::kFullAndDelta) snapshot_.reset();
  window_.head = plan.delta_generation;
  window_.base = plan.full_generation;
  built->fetch_seconds = c.fetch_s;
  built->parse_seconds = c.parse_s;
  built->build_seconds = SecondsSince(t);
  built->objects += c.objects;
  built->bytes += c.bytes;
  built->rebuilt_window_objects = c.rebuilt_objects;
  built->late_objects = c.changes.late;
  built->changed_objects = c.changes.changed();
  if (c.changes.late > 0) {
    spdlog::warn("builder: batch {}: {} late object(s) in partitions already committed, ingested now (first: {})",
                 plan.batch_id, c.changes.late, c.changes.first_late);
  }
  if (c.changes.changed() > 0) {
    spdlog::warn("builder: batch {}: {} window object(s) rewritten and {} deleted in the source since they were "
                 "ingested (first: {}); the batch reflects the source as listed now",
                 plan.batch_id, c.changes.rewritten, c.changes.vanished, c.changes.first_changed);
  }
  for (std::string& warning : window_warnings_) built->warnings.push_back(std::move(warning));
  co_return built;
}

}  // namespace freshet
