#include "actors/pipeline.h"

#include <csignal>
#include <algorithm>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "actors/builder.h"
#include "actors/committer.h"
#include "actors/crash_points.h"
#include "actors/lister.h"
#include "actors/planner.h"
#include "actors/ticker.h"
#include "actors/watchdog.h"
#include "config/schema_hash.h"
#include "index/segment_format.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct LoadedState {
  Checkpoint checkpoint;      // reconciled: the newer of the stored one and CURRENT's
  bool stored_stale = false;  // the stored checkpoint is behind CURRENT's
};

// Reads the durable state: the checkpoint and CURRENT, reconciled.
Result<LoadedState> LoadCheckpoint(ObjectStore& sink) {
  std::optional<Checkpoint> stored;
  std::optional<CurrentPointer> current;
  auto cp = GetSync(sink, GetRequest{std::string(kCheckpointKey), std::nullopt});
  if (cp.ok()) {
    auto decoded = DecodeCheckpoint(cp->body);
    if (!decoded.ok()) return decoded.status().WithContext(sink.Describe() + "/" + std::string(kCheckpointKey));
    stored = std::move(decoded).value();
  } else if (cp.status().code() != StatusCode::kNotFound) {
    return cp.status().WithContext("read checkpoint");
  }
  auto cur = GetSync(sink, GetRequest{std::string(kCurrentKey), std::nullopt});
  if (cur.ok()) {
    auto decoded = DecodeCurrent(cur->body);
    if (!decoded.ok()) return decoded.status().WithContext(sink.Describe() + "/" + std::string(kCurrentKey));
    current = std::move(decoded).value();
  } else if (cur.status().code() != StatusCode::kNotFound) {
    return cur.status().WithContext("read CURRENT");
  }
  LoadedState state;
  state.checkpoint = ReconcileCheckpoint(stored, current);
  state.stored_stale = current.has_value() && !(stored == std::optional<Checkpoint>(state.checkpoint));
  return state;
}

}  // namespace

// Lifetimes: Impl owns everything and outlives io.run(); the handlers below
// capture `this` because they only ever run inside io.run() (or on store
// and pool threads that are joined before Impl goes away). Members are
// destroyed bottom-up: actors, then the stores (joining their I/O threads,
// whose last callbacks may still post into `io`), then the pool, then `io`.
struct Pipeline::Impl {
  asio::io_context io{1};
  std::unique_ptr<ThreadPool> compute;
  Options options;
  std::unique_ptr<ObjectStore> source, sink;
  const Clock* clock;
  std::string schema_hash;

  std::shared_ptr<Ticker> ticker;
  std::shared_ptr<Lister> lister;
  std::shared_ptr<Planner> planner;
  std::shared_ptr<Builder> builder;
  std::shared_ptr<Committer> committer;
  std::shared_ptr<Watchdog> watchdog;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> drain_timer;

  // Batch flow state. One batch at a time (the Ticker guarantees it), but
  // the callbacks run on different strands: guard with a mutex.
  mutable std::mutex mu;
  Checkpoint checkpoint;
  std::deque<BatchProgress> recent;
  std::string last_idle_reason;
  int exit_code = kExitOk;
  int signals_seen = 0;

  void StartBatch(TimePoint trigger);
  void OnListed(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0, Result<ListingReport> r);
  void OnPlanned(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0, PlanDecision d);
  void Finish(std::shared_ptr<BatchProgress> p, bool built, bool failed);
  void Drain(const char* why);
  void Probe(std::function<void(uint64_t)> result);
  void Exit(int code);
};

void Pipeline::Impl::StartBatch(TimePoint trigger) {
  auto p = std::make_shared<BatchProgress>();
  p->trigger_time = trigger;
  auto t0 = std::chrono::steady_clock::now();
  lister->List([this, p, t0](Result<ListingReport> r) { OnListed(p, t0, std::move(r)); });
}

void Pipeline::Impl::OnListed(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0,
                              Result<ListingReport> r) {
  p->seconds(Stage::kList) = SecondsSince(t0);
  if (!r.ok()) {
    p->outcome = BatchOutcome::kFailed;
    p->message = r.status().ToString();
    Finish(p, false, true);
    return;
  }
  auto t1 = std::chrono::steady_clock::now();
  planner->Plan(std::move(r).value(), [this, p, t1](PlanDecision d) { OnPlanned(p, t1, std::move(d)); });
}

void Pipeline::Impl::OnPlanned(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0,
                               PlanDecision d) {
  p->seconds(Stage::kPlan) = SecondsSince(t0);
  p->pending = d.pending().size();
  if (const IdleDecision* idle = d.idle()) {
    p->outcome = BatchOutcome::kIdle;
    p->message = idle->reason;
    for (const auto& w : idle->warnings) spdlog::warn("planner: {}", w);
    Finish(p, false, idle->blocked);
    return;
  }
  BuildPlan plan = *d.build();
  p->batch_id = plan.batch_id;
  p->kind = std::string(BatchKindName(plan.kind));
  p->target = plan.target ? FormatRfc3339(*plan.target) : "";
  p->window_start = FormatRfc3339(plan.window_start);
  p->window_end = FormatRfc3339(plan.window_end);
  p->skipped = plan.skipped.size();
  p->delta_generation = plan.delta_generation;
  p->full_generation = plan.full_generation;
  for (const auto& w : plan.warnings) spdlog::warn("batch {}: {}", plan.batch_id, w);
  watchdog->BatchStarted(plan.batch_id);
  Checkpoint before;
  {
    std::lock_guard lock(mu);
    before = checkpoint;
  }
  auto shared_plan = std::make_shared<BuildPlan>(plan);
  builder->Build(std::move(plan), [this, p, shared_plan, before](Result<BuiltBatch> built) mutable {
    if (!built.ok()) {
      p->outcome = BatchOutcome::kFailed;
      p->message = built.status().ToString();
      Finish(p, false, true);
      return;
    }
    p->seconds(Stage::kFetch) = built->fetch_seconds;
    p->seconds(Stage::kParse) = built->parse_seconds;
    p->seconds(Stage::kBuild) = built->build_seconds;
    p->objects = built->objects;
    p->bytes = built->bytes;
    p->records = built->records;
    p->bad_records = built->bad_records;
    p->docs = built->delta.docs;
    p->tombstones = built->delta.tombstones;
    p->terms = built->delta.terms;
    p->output_bytes = built->delta.output_bytes + (built->full ? built->full->output_bytes : 0);
    if (built->full) {
      p->message = "full: docs=" + std::to_string(built->full->docs) + " terms=" + std::to_string(built->full->terms);
    }
    committer->Commit(*shared_plan, std::move(built).value(), before, [this, p](Result<CommitReport> c) {
      if (!c.ok()) {
        p->outcome = BatchOutcome::kFailed;
        p->message = c.status().ToString();
        Finish(p, false, true);
        return;
      }
      p->seconds(Stage::kWrite) = c->write_seconds;
      p->seconds(Stage::kCommit) = c->commit_seconds;
      p->outcome = BatchOutcome::kCommitted;
      if (c->checkpoint.watermark) {
        p->watermark = FormatRfc3339(*c->checkpoint.watermark);
        TimePoint end = *c->checkpoint.watermark + options.source.partition_interval;
        p->freshness_lag_seconds = std::chrono::duration<double>(clock->Now() - end).count();
      }
      {
        std::lock_guard lock(mu);
        checkpoint = c->checkpoint;
      }
      planner->SetCheckpoint(c->checkpoint);
      lister->SetCheckpoint(c->checkpoint);
      Finish(p, true, false);
    });
  });
}

void Pipeline::Impl::Finish(std::shared_ptr<BatchProgress> p, bool built, bool failed) {
  if (p->outcome == BatchOutcome::kIdle && !failed) {
    std::lock_guard lock(mu);
    if (p->message != last_idle_reason) {
      spdlog::info("idle: {}", p->message);
      last_idle_reason = p->message;
    } else {
      spdlog::debug("idle: {}", p->message);
    }
  } else {
    std::string line = FormatProgressLine(*p);
    if (failed) spdlog::error("{}", line);
    else spdlog::info("{}", line);
    std::lock_guard lock(mu);
    last_idle_reason.clear();
    recent.push_back(*p);
    while (recent.size() > 64) recent.pop_front();
  }
  if (p->batch_id) watchdog->BatchFinished(built);
  ticker->BatchFinished(built, failed);
}

// The hybrid rule's measurement: bytes of eligible partitions after the
// watermark, from an incremental listing (the same cheap LIST a batch does).
void Pipeline::Impl::Probe(std::function<void(uint64_t)> result) {
  lister->List([this, result](Result<ListingReport> r) {
    if (!r.ok()) return result(0);
    std::optional<TimePoint> watermark;
    {
      std::lock_guard lock(mu);
      watermark = checkpoint.watermark;
    }
    TimePoint now = clock->Now();
    uint64_t bytes = 0;
    for (const auto& p : r->partitions) {
      if (watermark && p.time <= *watermark) continue;
      if (p.time + options.source.partition_interval + options.pipeline.grace > now) continue;
      for (const auto& o : p.objects) bytes += o.size;
    }
    result(bytes);
  });
}

void Pipeline::Impl::Drain(const char* why) {
  spdlog::info("draining ({}): finishing the batch in flight, then exiting", why);
  ticker->Drain();
  if (!drain_timer) {
    drain_timer = std::make_unique<asio::steady_timer>(io);
    drain_timer->expires_after(options.watchdog.drain_timeout);
    drain_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::error("drain timed out after {}; exiting with the batch unfinished (it is retried on restart)",
                    FormatDuration(options.watchdog.drain_timeout));
      Exit(kExitDrainTimeout);
    });
  }
}

void Pipeline::Impl::Exit(int code) {
  {
    std::lock_guard lock(mu);
    exit_code = code;
  }
  io.stop();
}

Pipeline::Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
                   const Clock* clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->source = std::move(source);
  impl_->sink = std::move(sink);
  impl_->clock = clock;
}

Pipeline::~Pipeline() = default;

std::vector<BatchProgress> Pipeline::RecentBatches() const {
  std::lock_guard lock(impl_->mu);
  return {impl_->recent.begin(), impl_->recent.end()};
}

int Pipeline::Run() {
  Impl& m = *impl_;
  const Options& o = m.options;
  if (Status st = InitCrashPointsFromEnv(); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitUsage;
  }
  auto layout = PartitionLayout::Create(o.source.layout, o.source.partition_interval);
  if (!layout.ok()) {
    spdlog::error("source.layout: {}", layout.status().ToString());
    return kExitUsage;
  }
  m.schema_hash = SchemaHash(o.schema);
  std::string salt = m.schema_hash + ":index-v" + std::to_string(kSegmentFormatVersion);
  PlannerConfig pc = PlannerConfigFromOptions(o, salt);
  if (Status st = ValidatePlannerConfig(pc); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return kExitUsage;
  }
  auto cp = LoadCheckpoint(*m.sink);
  if (!cp.ok()) {
    spdlog::error("cannot resume: {}", cp.status().ToString());
    return kExitFatal;
  }
  m.checkpoint = cp->checkpoint;
  // After a crash between CURRENT and the checkpoint write, CURRENT is ahead:
  // bring the durable watermark up to it now rather than at the next commit.
  if (cp->stored_stale) {
    auto put = PutSync(*m.sink, std::string(kCheckpointKey), EncodeCheckpoint(m.checkpoint));
    if (!put.ok()) {
      spdlog::error("cannot repair the checkpoint: {}", put.status().ToString());
      return kExitFatal;
    }
    spdlog::info("checkpoint brought up to CURRENT (the last run stopped between the two writes)");
  }
  const Checkpoint& c = m.checkpoint;
  spdlog::info("freshet starting: source={} sink={} watermark={} base={} next batch {}", m.source->Describe(),
               m.sink->Describe(), c.watermark ? FormatRfc3339(*c.watermark) : "none",
               c.base_generation.empty() ? "none" : c.base_generation, c.next_batch_id);

  size_t threads = o.pipeline.compute_threads ? o.pipeline.compute_threads
                                              : std::max(1u, std::thread::hardware_concurrency());
  m.compute = std::make_unique<ThreadPool>("compute", threads, 256);
  m.lister = std::make_shared<Lister>(m.io, m.source.get(), o, *layout, pc, m.clock);
  m.lister->SetCheckpoint(m.checkpoint);
  m.planner = std::make_shared<Planner>(m.io, pc, m.checkpoint, m.clock);
  m.builder = std::make_shared<Builder>(m.io, m.source.get(), m.compute.get(), o, m.schema_hash);
  m.committer = std::make_shared<Committer>(m.io, m.sink.get(), o.sink.retain_generations, 8);
  m.ticker = std::make_shared<Ticker>(
      m.io, o.pipeline.trigger, o.pipeline.trigger_interval, m.clock,
      Ticker::Hooks{[&m](TimePoint t) { m.StartBatch(t); },
                    [&m](bool failed) { m.Exit(failed ? kExitBatchFailed : kExitOk); },
                    o.pipeline.trigger_pending_bytes > 0
                        ? std::function<void(std::function<void(uint64_t)>)>(
                              [&m](std::function<void(uint64_t)> result) { m.Probe(std::move(result)); })
                        : nullptr},
      o.pipeline.trigger_pending_bytes,
      std::clamp<Duration>(o.pipeline.trigger_interval / 6, std::chrono::seconds(1), std::chrono::seconds(10)));
  auto pinger = [](auto actor) { return [actor](std::function<void()> pong) { actor->Ping(std::move(pong)); }; };
  m.watchdog = std::make_shared<Watchdog>(
      m.io, o.watchdog, m.clock,
      std::vector<Watchdog::Target>{{"ticker", pinger(m.ticker)},
                                    {"lister", pinger(m.lister)},
                                    {"planner", pinger(m.planner)},
                                    {"builder", pinger(m.builder)},
                                    {"committer", pinger(m.committer)}},
      Watchdog::Hooks{[&m] { asio::post(m.io, [&m] { m.Drain("planned restart after max_uptime"); }); }});

  m.signals = std::make_unique<asio::signal_set>(m.io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&m, &on_signal](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (++m.signals_seen >= 2) {
      spdlog::warn("second signal ({}): exiting now", sig);
      spdlog::default_logger()->flush();
      std::_Exit(kExitSecondSignal);
    }
    m.Drain(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    m.signals->async_wait(on_signal);
  };
  m.signals->async_wait(on_signal);

  m.watchdog->Start();
  m.ticker->Start();
  m.io.run();

  m.watchdog->Stop();
  m.compute->Shutdown();
  spdlog::default_logger()->flush();
  std::lock_guard lock(m.mu);
  return m.exit_code;
}

}  // namespace freshet
