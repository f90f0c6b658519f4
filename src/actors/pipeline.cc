#include "actors/pipeline.h"

#include <csignal>
#include <algorithm>
#include <atomic>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/admin_routes.h"
#include "actors/builder.h"
#include "actors/committer.h"
#include "actors/crash_points.h"
#include "actors/lister.h"
#include "actors/pipeline_metrics.h"
#include "actors/planner.h"
#include "actors/status_json.h"
#include "actors/ticker.h"
#include "actors/watchdog.h"
#include "admin/admin_server.h"
#include "admin/systemd_notify.h"
#include "metrics/process_stats.h"
#include "config/schema_hash.h"
#include "index/segment_format.h"
#include "sink/sink_layout.h"
#include "sink/sink_state.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double UnixSeconds(TimePoint t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

// The event-loop lag probe's period, and its histogram: 0.1 ms .. 6.5 s.
constexpr auto kLagProbePeriod = std::chrono::milliseconds(100);
std::vector<double> LagBuckets() { return ExponentialBuckets(0.0001, 2, 17); }
constexpr double kLagWarning = 0.25;  // seconds: log a lag this long (normal: under 15 ms)

std::string_view TriggerModeName(TriggerMode m) {
  switch (m) {
    case TriggerMode::kInterval: return "interval";
    case TriggerMode::kContinuous: return "continuous";
    case TriggerMode::kOnce: return "once";
    case TriggerMode::kAvailableNow: return "available_now";
  }
  return "?";
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

  // Operations surface: metrics (own registry unless given one), the admin
  // server, systemd notifications, the event-loop lag probe.
  std::unique_ptr<MetricsRegistry> own_registry;
  MetricsRegistry* registry = nullptr;
  std::unique_ptr<PipelineMetrics> metrics;
  Histogram* loop_lag = nullptr;
  std::unique_ptr<AdminServer> admin;
  std::atomic<uint16_t> admin_port{0};
  SystemdNotifier systemd;
  std::unique_ptr<asio::steady_timer> lag_timer, sd_watchdog_timer;
  std::chrono::steady_clock::time_point lag_deadline;
  TimePoint started{};
  std::atomic<bool> listed_once{false}, running{false};

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
  PipelineEnd end = PipelineEnd::kNotStarted;
  bool planned_restart = false, draining = false;
  int signals_seen = 0;
  // For /status: the last plan's view of the input, the batch in flight.
  std::optional<TimePoint> last_commit;
  std::optional<StatusSnapshot::InFlight> in_flight;
  std::chrono::steady_clock::time_point in_flight_t0;
  uint64_t backlog = 0;
  std::vector<PendingInput> not_eligible, not_eligible_snapshots;
  std::string idle_reason;

  void StartBatch(TimePoint trigger);
  void OnListed(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0, Result<ListingReport> r);
  void OnPlanned(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0, PlanDecision d);
  void Finish(std::shared_ptr<BatchProgress> p, bool built, bool failed);
  void Drain(const char* why);
  void Probe(std::function<void(uint64_t)> result);
  void Exit(int code);

  void RegisterCollectors();
  Status StartAdmin();
  void ArmLagProbe();
  void ArmSystemdWatchdog(std::chrono::microseconds every);
  StatusSnapshot Snapshot() const;
  std::optional<std::string> NotReady() const;
  std::string StatusLine() const;
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
  p->stages_reached = 1;
  if (!r.ok()) {
    p->outcome = BatchOutcome::kFailed;
    p->message = r.status().ToString();
    Finish(p, false, true);
    return;
  }
  listed_once = true;
  auto t1 = std::chrono::steady_clock::now();
  planner->Plan(std::move(r).value(), [this, p, t1](PlanDecision d) { OnPlanned(p, t1, std::move(d)); });
}

void Pipeline::Impl::OnPlanned(std::shared_ptr<BatchProgress> p, std::chrono::steady_clock::time_point t0,
                               PlanDecision d) {
  p->seconds(Stage::kPlan) = SecondsSince(t0);
  p->stages_reached = 2;
  p->pending = d.pending().size();
  {
    std::lock_guard lock(mu);
    not_eligible = d.pending();
    not_eligible_snapshots = d.build() ? d.build()->pending_snapshots : d.idle()->pending_snapshots;
    backlog = d.build() ? d.build()->backlog : 0;
    idle_reason = d.idle() ? d.idle()->reason : "";
  }
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
    in_flight = StatusSnapshot::InFlight{plan.batch_id, clock->Now(), 0};
    in_flight_t0 = std::chrono::steady_clock::now();
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
    p->stages_reached = 5;
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
      p->full_docs = static_cast<int64_t>(built->full->docs);
      p->full_terms = static_cast<int64_t>(built->full->terms);
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
      p->stages_reached = static_cast<int>(Stage::kCount);
      p->outcome = BatchOutcome::kCommitted;
      if (c->checkpoint.watermark) {
        p->watermark = FormatRfc3339(*c->checkpoint.watermark);
        TimePoint end = *c->checkpoint.watermark + options.source.partition_interval;
        p->freshness_lag_seconds = std::chrono::duration<double>(clock->Now() - end).count();
      }
      {
        std::lock_guard lock(mu);
        checkpoint = c->checkpoint;
        last_commit = clock->Now();
      }
      planner->SetCheckpoint(c->checkpoint);
      lister->SetCheckpoint(c->checkpoint);
      Finish(p, true, false);
    });
  });
}

void Pipeline::Impl::Finish(std::shared_ptr<BatchProgress> p, bool built, bool failed) {
  std::optional<TimePoint> committed_at;
  {
    std::lock_guard lock(mu);
    in_flight.reset();
    committed_at = last_commit;
  }
  metrics->OnBatchEnd(*p, committed_at ? UnixSeconds(*committed_at) : 0);
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
    while (recent.size() > options.admin.status_batches) recent.pop_front();
  }
  if (p->batch_id) watchdog->BatchFinished(built);
  if (systemd.enabled()) systemd.Status(StatusLine());
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
  {
    std::lock_guard lock(mu);
    draining = true;
  }
  systemd.Stopping(std::string("draining (") + why + ")");
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

StatusSnapshot Pipeline::Impl::Snapshot() const {
  StatusSnapshot s;
  s.version = FRESHET_VERSION;
  s.now = clock->Now();
  s.started = started;
  s.uptime_seconds = std::chrono::duration<double>(s.now - started).count();
  if (watchdog) {
    HealthVerdict v = watchdog->verdict();
    s.healthy = v.healthy;
    s.health_problems = std::move(v.problems);
  }
  s.ready = !NotReady().has_value();
  s.source = source->Describe();
  s.sink = sink->Describe();
  s.trigger_mode = std::string(TriggerModeName(options.pipeline.trigger));
  s.trigger_interval_seconds = std::chrono::duration<double>(options.pipeline.trigger_interval).count();
  if (ticker) {
    s.coalesced = ticker->coalesced();
    s.fired = ticker->fired();
  }
  s.partition_interval = options.source.partition_interval;
  std::lock_guard lock(mu);
  s.draining = draining;
  s.watermark = checkpoint.watermark;
  s.last_commit = last_commit;
  s.base_generation = checkpoint.base_generation;
  s.delta_generation = checkpoint.delta_generation;
  s.next_batch_id = checkpoint.next_batch_id;
  if (in_flight) {
    s.in_flight = *in_flight;
    s.in_flight->running_seconds = SecondsSince(in_flight_t0);
  }
  s.backlog_partitions = backlog;
  s.not_eligible = not_eligible;
  s.not_eligible_snapshots = not_eligible_snapshots;
  s.idle_reason = idle_reason;
  return s;
}

std::optional<std::string> Pipeline::Impl::NotReady() const {
  if (!running) return "starting";
  {
    std::lock_guard lock(mu);
    if (draining) return "draining";
  }
  if (!listed_once) return "the first listing of the source has not completed";
  return std::nullopt;
}

// One line for systemd's STATUS= (`systemctl status`).
std::string Pipeline::Impl::StatusLine() const {
  StatusSnapshot s = Snapshot();
  std::string line = s.healthy ? "healthy" : "UNHEALTHY";
  line += "; watermark ";
  line += s.watermark ? FormatRfc3339(*s.watermark) : "none";
  if (auto lag = FreshnessLagSeconds(s)) line += fmt::format("; freshness lag {:.0f}s", *lag);
  std::lock_guard lock(mu);
  if (!recent.empty()) {
    const BatchProgress& b = recent.back();
    line += fmt::format("; last batch {} {}", b.batch_id, OutcomeName(b.outcome));
  }
  if (!s.health_problems.empty()) line += "; " + s.health_problems.front();
  return line;
}

void Pipeline::Impl::RegisterCollectors() {
  registry->AddCollector([this](MetricsWriter& w) {
    StatusSnapshot s = Snapshot();
    w.Gauge("freshet_build_info", "Always 1; the version in a label.", {{"version", FRESHET_VERSION}}, 1);
    w.Gauge("freshet_uptime_seconds", "Seconds since this process started its pipeline.", {}, s.uptime_seconds);
    w.Gauge("freshet_healthy", "1 while /healthz answers 200 (every actor answers, commits are recent).", {},
            s.healthy);
    w.Gauge("freshet_health_problems", "Problems the watchdog reports now (0 when healthy).", {},
            static_cast<double>(s.health_problems.size()));
    w.Gauge("freshet_ready", "1 once the watermark is loaded and the first listing is done.", {}, s.ready);
    w.Gauge("freshet_draining", "1 while draining before exit.", {}, s.draining);
    w.Gauge("freshet_trigger_interval_seconds", "The configured trigger interval.", {}, s.trigger_interval_seconds);
    w.Counter("freshet_triggers_total", "Triggers fired (each starts a batch, which may be idle).", {},
              static_cast<double>(s.fired));
    w.Counter("freshet_triggers_coalesced_total",
              "Trigger deadlines that passed while a batch was in flight (merged, never queued).", {},
              static_cast<double>(s.coalesced));
    w.Counter("freshet_triggers_early_total", "Triggers fired early by the pending-bytes rule.", {},
              ticker ? static_cast<double>(ticker->early_fires()) : 0);
    w.Gauge("freshet_backlog_partitions", "Eligible partitions left for later batches (sequential policy).", {},
            static_cast<double>(s.backlog_partitions));
    w.Gauge("freshet_not_eligible_partitions", "Partitions visible but not yet eligible (grace not passed).", {},
            static_cast<double>(s.not_eligible.size()));
    w.Gauge("freshet_batch_in_flight", "1 while a batch is being built or committed.", {}, s.in_flight.has_value());
    w.Gauge("freshet_batch_running_seconds", "How long the batch in flight has been running (0 when none).", {},
            s.in_flight ? s.in_flight->running_seconds : 0);
    if (s.watermark) {
      w.Gauge("freshet_watermark_timestamp_seconds", "Start of the newest committed partition, Unix seconds.", {},
              UnixSeconds(*s.watermark));
      w.Gauge("freshet_freshness_lag_seconds",
              "Now minus the end of the newest committed partition (watermark + partition interval).", {},
              *FreshnessLagSeconds(s));
    }
    if (admin) {
      AdminServer::Stats a = admin->stats();
      w.Counter("freshet_admin_requests_total", "Requests the admin endpoint answered.", {},
                static_cast<double>(a.requests));
      w.Counter("freshet_admin_unauthorized_total", "Admin requests refused for a missing or wrong bearer token.",
                {}, static_cast<double>(a.unauthorized));
      w.Counter("freshet_admin_rejected_connections_total", "Admin connections closed at once (too many open).", {},
                static_cast<double>(a.connections_rejected));
    }
  });
  AddProcessCollector(*registry);
}

Status Pipeline::Impl::StartAdmin() {
  if (options.admin.listen.empty()) return Status::Ok();
  AdminServerOptions ao;
  ao.listen = options.admin.listen;
  ao.bearer_token = options.admin.token;
  AdminViews views;
  views.health = [this] { return watchdog->verdict(); };
  views.not_ready = [this] { return NotReady(); };
  views.metrics = [this] { return registry->RenderPrometheus(); };
  views.status_json = [this] {
    StatusSnapshot s = Snapshot();
    std::vector<BatchProgress> batches;
    {
      std::lock_guard lock(mu);
      batches.assign(recent.begin(), recent.end());
    }
    return EncodeStatusJson(s, batches);
  };
  auto server = AdminServer::Start(
      io, ao, [views = std::move(views)](const AdminRequest& r) { return HandleAdminRequest(views, r); });
  if (!server.ok()) return server.status().WithContext("admin.listen");
  admin = std::move(server).value();
  admin_port = admin->port();
  spdlog::info("admin endpoint on {} (/healthz /readyz /metrics /status, status page at /){}", admin->url(),
               options.admin.token.empty() ? "" : "; bearer token required except for /healthz and /readyz");
  return Status::Ok();
}

// A timer that should fire every kLagProbePeriod; how late it fires is how
// long handlers (or the machine) kept the io_context thread busy.
void Pipeline::Impl::ArmLagProbe() {
  lag_deadline = std::chrono::steady_clock::now() + kLagProbePeriod;
  lag_timer->expires_at(lag_deadline);
  lag_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const double lag = std::max(0.0, SecondsSince(lag_deadline));
    loop_lag->Observe(lag);
    // Admin requests, heartbeats and triggers all waited this long.
    if (lag >= kLagWarning) spdlog::warn("event loop blocked: a 100 ms timer fired {:.0f} ms late", lag * 1000);
    ArmLagProbe();
  });
}

// WATCHDOG=1 at half the unit's WatchdogSec, only while healthy: a wedged
// or unhealthy daemon stops pinging and systemd restarts it.
void Pipeline::Impl::ArmSystemdWatchdog(std::chrono::microseconds every) {
  sd_watchdog_timer->expires_after(every);
  sd_watchdog_timer->async_wait([this, every](const boost::system::error_code& ec) {
    if (ec) return;
    if (watchdog->verdict().healthy) systemd.WatchdogPing();
    else spdlog::debug("systemd: unhealthy, WATCHDOG=1 withheld");
    ArmSystemdWatchdog(every);
  });
}

void Pipeline::Impl::Exit(int code) {
  {
    std::lock_guard lock(mu);
    exit_code = code;
  }
  // The admin server closes its listener and connections on its strand:
  // let that run before the loop stops (a single-threaded io_context runs
  // handlers in the order they were queued), so no client connects to a
  // socket nobody serves any more.
  if (admin) {
    admin->Stop();
    asio::post(io, [this] { io.stop(); });
  } else {
    io.stop();
  }
}

Pipeline::Pipeline(Options options, std::unique_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> sink,
                   const Clock* clock, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->source = std::move(source);
  impl_->sink = std::move(sink);
  impl_->clock = clock;
  if (!metrics) {
    impl_->own_registry = std::make_unique<MetricsRegistry>();
    metrics = impl_->own_registry.get();
  }
  impl_->registry = metrics;
  impl_->metrics = std::make_unique<PipelineMetrics>(metrics);
  impl_->loop_lag = &metrics->GetHistogram(
      "freshet_event_loop_lag_seconds",
      "How late a 100 ms timer on the daemon's io_context fires: time handlers kept the loop busy.", LagBuckets());
}

Pipeline::~Pipeline() = default;

std::vector<BatchProgress> Pipeline::RecentBatches() const {
  std::lock_guard lock(impl_->mu);
  return {impl_->recent.begin(), impl_->recent.end()};
}

std::string Pipeline::StatusJson() const {
  StatusSnapshot s = impl_->Snapshot();
  std::vector<BatchProgress> batches = RecentBatches();
  return EncodeStatusJson(s, batches);
}

uint16_t Pipeline::admin_port() const { return impl_->admin_port.load(); }

PipelineEnd Pipeline::end() const {
  std::lock_guard lock(impl_->mu);
  return impl_->end;
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
  auto recovered = RecoverState(*m.sink);
  if (!recovered.ok()) {
    spdlog::error("cannot resume: {}", recovered.status().ToString());
    return kExitFatal;
  }
  m.checkpoint = recovered->checkpoint;
  // freshet 0.1 kept a copy of the checkpoint beside CURRENT; CURRENT is
  // the one state now, and the old copy would only mislead a reader.
  if (recovered->legacy_checkpoint_file) {
    Status del = DeleteSync(*m.sink, std::string(kLegacyCheckpointKey));
    if (del.ok()) spdlog::info("removed {} (CURRENT holds the checkpoint now)", kLegacyCheckpointKey);
    else spdlog::warn("cannot remove {}: {}", kLegacyCheckpointKey, del.ToString());
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
      Watchdog::Hooks{[&m] {
        asio::post(m.io, [&m] {
          {
            std::lock_guard lock(m.mu);
            m.planned_restart = true;
          }
          m.Drain("planned restart after max_uptime");
        });
      }});

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

  m.started = m.clock->Now();
  m.RegisterCollectors();
  if (Status st = m.StartAdmin(); !st.ok()) {
    spdlog::error("{}", st.ToString());
    m.compute->Shutdown();
    return kExitFatal;
  }
  m.lag_timer = std::make_unique<asio::steady_timer>(m.io);
  m.ArmLagProbe();
  if (auto every = m.systemd.watchdog_interval()) {
    m.sd_watchdog_timer = std::make_unique<asio::steady_timer>(m.io);
    m.ArmSystemdWatchdog(*every / 2);
    spdlog::info("systemd watchdog: pinging every {} ms while healthy", (*every / 2).count() / 1000);
  }
  m.watchdog->Start();
  m.ticker->Start();
  m.running = true;
  asio::post(m.io, [&m] {
    if (m.systemd.Ready(m.StatusLine())) spdlog::debug("systemd: READY=1 sent");
  });
  m.io.run();
  m.running = false;

  if (m.admin) m.admin->Stop();
  m.watchdog->Stop();
  m.compute->Shutdown();
  spdlog::default_logger()->flush();
  std::lock_guard lock(m.mu);
  m.end = m.exit_code != kExitOk ? PipelineEnd::kFailed
          : m.planned_restart    ? PipelineEnd::kPlannedRestart
                                 : PipelineEnd::kStopped;
  return m.exit_code;
}

}  // namespace freshet
