#include "actors/pipeline.h"

#include <csignal>
#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "actors/builder.h"
#include "actors/committer.h"
#include "actors/crash_points.h"
#include "actors/lister.h"
#include "actors/merger.h"
#include "actors/planner.h"
#include "actors/run_control.h"
#include "actors/run_stop.h"
#include "actors/ticker.h"
#include "actors/watchdog.h"
#include "base/thread_priority.h"
#include "admin/admin_endpoint.h"
#include "config/config_loader.h"
#include "config/schema_hash.h"
#include "index/segment_format.h"
#include "ingest/record_runs.h"
#include "sink/sink_state.h"
#include "sink/writer_lease.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

// freshet_mailbox_{refused,coalesced}_total{actor}. The board keeps the
// actor alive while it may be scraped.
template <typename Actor>
void WatchMailbox(StatusBoard& board, const std::shared_ptr<Actor>& actor) {
  board.WatchMailbox(
      actor->mailbox().name(), [actor] { return actor->mailbox().refused(); },
      [actor] { return actor->mailbox().coalesced(); });
}

}  // namespace

// Destruction runs bottom-up, after the loop stopped (no handler runs
// again): the endpoint, the pool, then the board with the actors it keeps
// for its mailbox metrics, the stores and, last, a loop of its own.
struct Pipeline::Impl {
  std::unique_ptr<IoLoop> own_loop;
  IoLoop* loop = nullptr;
  asio::io_context& io() { return loop->context(); }
  std::promise<void> run_over;  // set once, by StopEverything
  std::optional<WriterLease> lease;  // taken at start-up, released when the run ends
  Options options;
  std::unique_ptr<ObjectStore> source, sink;
  const Clock* clock;
  std::unique_ptr<MetricsRegistry> own_registry;
  MetricsRegistry* registry;
  SystemdNotifier systemd;
  std::unique_ptr<StatusBoard> board;
  std::unique_ptr<ThreadPool> compute;
  std::unique_ptr<ThreadPool> merges;  // one thread at the lowest CPU priority
  std::shared_ptr<RunControl> control;
  std::shared_ptr<Ticker> ticker;
  std::shared_ptr<Lister> lister;
  std::shared_ptr<Planner> planner;
  std::shared_ptr<Builder> builder;
  std::shared_ptr<Committer> committer;
  std::shared_ptr<Merger> merger;
  std::shared_ptr<Watchdog> watchdog;
  std::unique_ptr<AdminEndpoint> endpoint;
  std::unique_ptr<asio::signal_set> signals;
  std::atomic<uint16_t> admin_port{0};
  // Stop() from any thread: the first call wins, and exactly one stop
  // message reaches RunControl, whether Stop() came before or after wiring.
  std::atomic<bool> stop_requested{false}, stop_sent{false};
  std::atomic<Mailbox<ControlMsg>*> control_box{nullptr};

  int Start();
  void Wire(const PartitionLayout& layout, const PlannerConfig& pc, const std::string& schema_hash,
            const Checkpoint& checkpoint, const std::optional<std::string>& current_etag,
            std::optional<Committer::Lease> lease);
  void ReleaseLease() {
    if (!lease) return;
    if (Status st = ReleaseWriterLease(*sink, *lease); !st.ok()) spdlog::warn("writer lease: {}", st.ToString());
    lease.reset();
  }
  void SendStop() {
    Mailbox<ControlMsg>* box = control_box.load();
    if (box && stop_requested && !stop_sent.exchange(true)) MustDeliver(box->Post(SignalReceived{0}));
  }
};

Pipeline::Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
                   const Clock* clock, MetricsRegistry* metrics, IoLoop* loop)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!loop) {
    m.own_loop = std::make_unique<IoLoop>(std::max(1u, options.pipeline.io_threads));
    loop = m.own_loop.get();
  }
  m.loop = loop;
  m.options = std::move(options);
  m.source = std::move(source);
  m.sink = std::move(sink);
  m.clock = clock;
  if (!metrics) {
    m.own_registry = std::make_unique<MetricsRegistry>();
    metrics = m.own_registry.get();
  }
  m.registry = metrics;
  BoardConfig bc;
  bc.version = FRESHET_VERSION;
  bc.source = m.source->Describe();
  bc.sink = m.sink->Describe();
  bc.trigger_mode = std::string(TriggerModeName(m.options.pipeline.trigger));
  bc.trigger_interval = m.options.pipeline.trigger_interval;
  bc.partition_interval = m.options.source.partition_interval;
  bc.recent_batches = m.options.admin.status_batches;
  m.board = std::make_unique<StatusBoard>(bc, clock, metrics, &m.systemd);
}

// The loop stops first: nothing below may run a handler while it goes.
Pipeline::~Pipeline() { impl_->loop->Stop(); }

const StatusBoard& Pipeline::board() const { return *impl_->board; }
uint16_t Pipeline::admin_port() const { return impl_->admin_port.load(); }

PipelineEnd Pipeline::end() const {
  return impl_->control ? impl_->control->end() : PipelineEnd::kNotStarted;
}

void Pipeline::Stop() {
  impl_->stop_requested = true;
  impl_->SendStop();  // before wiring, Start() sends it
}

int Pipeline::Run() {
  Impl& m = *impl_;
  if (int code = m.Start(); code != kExitOk) {
    m.ReleaseLease();
    m.loop->Stop();
    return code;
  }
  m.run_over.get_future().wait();
  m.ReleaseLease();  // while the loop runs: an S3 sink needs it
  m.loop->Stop();
  m.compute->Shutdown();
  if (m.merges) m.merges->Shutdown();
  spdlog::default_logger()->flush();
  return m.control->exit_code();
}

// Everything up to the first trigger; an exit code on failure. The loop
// already runs (an S3 sink's recovery reads go through it).
int Pipeline::Impl::Start() {
  if (Status st = InitCrashPointsFromEnv(); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitUsage;
  }
  auto layout = PartitionLayout::Create(options.source.layout, options.source.partition_interval);
  if (!layout.ok()) {
    spdlog::error("source.layout: {}", layout.status().ToString());
    return kExitUsage;
  }
  const std::string schema_hash = SchemaHash(options.schema);
  PlannerConfig pc =
      PlannerConfigFromOptions(options, schema_hash + ":index-v" + std::to_string(kSegmentFormatVersion));
  if (Status st = ValidatePlannerConfig(pc); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitUsage;
  }
  auto recovered = RecoverState(*sink);
  if (!recovered.ok()) {
    spdlog::error("cannot resume: {}", recovered.status().ToString());
    return kExitFatal;
  }
  // freshet 0.1 kept a copy of the checkpoint beside CURRENT; CURRENT is
  // the one state now, and the old copy would only mislead a reader.
  if (recovered->legacy_checkpoint_file) {
    Status del = DeleteSync(*sink, std::string(kLegacyCheckpointKey));
    if (del.ok()) spdlog::info("removed {} (CURRENT holds the checkpoint now)", kLegacyCheckpointKey);
    else spdlog::warn("cannot remove {}: {}", kLegacyCheckpointKey, del.ToString());
  }
  std::optional<Committer::Lease> held;
  if (options.sink.writer_lease > Duration(0)) {
    WriterLease me = ThisWriter(clock->Now());
    Result<std::string> etag = AcquireWriterLease(*sink, me, clock->Now(), options.sink.writer_lease);
    if (!etag.ok()) {
      spdlog::error("cannot start: {}", etag.status().ToString());
      return kExitFatal;
    }
    lease = me;
    held = Committer::Lease{me, std::move(etag).value(), options.sink.writer_lease};
  }
  // The one writer now (or the operator said so: no lease): whatever a
  // killed run's writes left behind is garbage.
  if (Result<uint64_t> swept = sink->RemoveAbandonedWrites(); !swept.ok()) {
    spdlog::warn("{}", swept.status().ToString());
  } else if (*swept > 0) {
    spdlog::info("removed {} temp file(s) a cut-short write left in the sink", *swept);
  }
  const Checkpoint& c = recovered->checkpoint;
  spdlog::info("freshet starting: source={} sink={} watermark={} base={} next batch {}", source->Describe(),
               sink->Describe(), c.watermark ? FormatRfc3339(*c.watermark) : "none",
               c.base_generation.empty() ? "none" : c.base_generation, c.next_batch_id);

  AdminEndpointOptions eo{options.admin.listen, options.admin.token};
  auto ep = AdminEndpoint::Start(io(), eo, board.get(), registry, &systemd);
  if (!ep.ok()) {
    spdlog::error("{}", ep.status().ToString());
    return kExitFatal;
  }
  endpoint = std::move(ep).value();
  admin_port = endpoint->port();
  signals = std::make_unique<asio::signal_set>(io(), SIGINT, SIGTERM);
  Wire(*layout, pc, schema_hash, c, recovered->current_etag, std::move(held));
  signals->async_wait(SignalForwarder{signals.get(), &control->mailbox()});
  board->Publish(RunStarted{c});
  control->Start();
  watchdog->Start();
  committer->Start();
  merger->Start();
  builder->Start();
  planner->Start();
  lister->Start();
  ticker->Start();  // the first trigger
  endpoint->Ready();
  control_box = &control->mailbox();
  SendStop();  // a Stop() that came before the wiring
  return kExitOk;
}

// The actors, and who talks to whom (actors/messages.h).
void Pipeline::Impl::Wire(const PartitionLayout& layout, const PlannerConfig& pc, const std::string& schema_hash,
                          const Checkpoint& checkpoint, const std::optional<std::string>& current_etag,
                          std::optional<Committer::Lease> lease) {
  const Options& o = options;
  const size_t threads = o.pipeline.compute_threads ? o.pipeline.compute_threads
                                              : std::max(1u, std::thread::hardware_concurrency());
  compute = std::make_unique<ThreadPool>("compute", threads, 256);
  // Merges run on their own thread at nice 19: they use the cores the
  // batches leave idle and never slow a batch down (a merge of a long run
  // takes seconds; a batch beside it on the same cores took twice as long).
  merges = std::make_unique<ThreadPool>("merge", 1, 16);
  (void)merges->TrySubmit([] {
    if (Status st = LowerThisThreadPriority(19); !st.ok()) {
      spdlog::info("merges run at normal CPU priority: {}", st.ToString());
    }
  });

  Ticker::Config tc{o.pipeline.trigger, o.pipeline.trigger_interval, o.pipeline.trigger_pending_bytes,
                    std::clamp<Duration>(o.pipeline.trigger_interval / 6, std::chrono::seconds(1),
                                         std::chrono::seconds(10)),
                    EligibilityGrid{o.source.partition_interval, o.pipeline.grace}};
  Committer::Config cc{o.sink.retain_generations, 8, o.source.partition_interval};
  cc.merge_policy.merge_factor = o.pipeline.merge_factor;
  cc.merge_policy.max_segments = o.pipeline.max_segments;
  control = std::make_shared<RunControl>(io(), o.watchdog.drain_timeout, clock);
  ticker = std::make_shared<Ticker>(io(), tc, clock);
  lister = std::make_shared<Lister>(io(), source.get(), o, layout, pc, checkpoint, clock);
  planner = std::make_shared<Planner>(io(), pc, checkpoint);
  // Sorted runs a killed daemon left behind (ingest/record_runs.h).
  if (Status st = RemoveScratchRuns(ScratchDir(o.pipeline)); !st.ok()) {
    spdlog::warn("scratch runs left by an earlier process stay: {}", st.ToString());
  }
  builder = std::make_shared<Builder>(io(), source.get(), sink.get(), compute.get(), o, schema_hash);
  committer = std::make_shared<Committer>(io(), sink.get(), cc, checkpoint, current_etag, clock, std::move(lease));
  merger = std::make_shared<Merger>(io(), sink.get(), merges.get(), o.schema, schema_hash);
  watchdog = std::make_shared<Watchdog>(io(), o.watchdog, clock);

  auto* wd = &watchdog->mailbox();
  BatchRoute route{board.get(), wd, &ticker->mailbox()};
  ticker->Connect({&lister->mailbox(), &control->mailbox(), wd, board.get()});
  lister->Connect({&planner->mailbox(), &ticker->mailbox(), wd, route});
  planner->Connect({&builder->mailbox(), wd, route});
  builder->Connect({&committer->mailbox(), wd, &lister->mailbox(), route});
  committer->Connect({&lister->mailbox(), &planner->mailbox(), wd, &control->mailbox(), &merger->mailbox(), route});
  merger->Connect({&committer->mailbox(), wd});
  // A merge recovered from the sink may be pending.
  MustDeliver(merger->mailbox().Post(CheckpointAdvanced{checkpoint}));
  AdminEndpoint* ep = endpoint.get();
  control->Connect({&ticker->mailbox(), board.get(), [ep](const std::string& why) { ep->Stopping(why); },
                    StopEverything(ep, signals.get(), &run_over,
                                   std::tuple(&ticker->mailbox(), &lister->mailbox(), &planner->mailbox(),
                                              &builder->mailbox(), &committer->mailbox(), &merger->mailbox(),
                                              &watchdog->mailbox(),
                                              &control->mailbox()))});
  auto pinger = [](auto& actor) { return [&box = actor->mailbox()](uint64_t seq) { return box.Post(Ping{seq}); }; };
  watchdog->Connect({{"ticker", pinger(ticker)},
                     {"lister", pinger(lister)},
                     {"planner", pinger(planner)},
                     {"builder", pinger(builder)},
                     {"committer", pinger(committer)},
                     {"merger", pinger(merger)}},
                    {&control->mailbox(), board.get()});
  WatchMailbox(*board, control);
  WatchMailbox(*board, ticker);
  WatchMailbox(*board, lister);
  WatchMailbox(*board, planner);
  WatchMailbox(*board, builder);
  WatchMailbox(*board, committer);
  WatchMailbox(*board, merger);
  WatchMailbox(*board, watchdog);
}

}  // namespace freshet
