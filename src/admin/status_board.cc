#include "admin/status_board.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "metrics/process_stats.h"

namespace freshet {
namespace {

double UnixSeconds(TimePoint t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }
double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

StatusBoard::StatusBoard(BoardConfig config, const Clock* clock, MetricsRegistry* registry, SystemdNotifier* systemd)
    : config_(std::move(config)), clock_(clock), registry_(registry), systemd_(systemd), metrics_(registry) {
  started_ = clock_->Now();
  RegisterCollectors();
}

StatusBoard::~StatusBoard() = default;

void StatusBoard::Publish(const RunStarted& e) {
  std::lock_guard lock(mu_);
  running_ = true;
  started_ = clock_->Now();
  checkpoint_ = e.checkpoint;
}

void StatusBoard::Publish(const SourceListed&) {
  std::lock_guard lock(mu_);
  listed_ = true;
}

void StatusBoard::Publish(const InputPlanned& e) {
  std::lock_guard lock(mu_);
  backlog_ = e.backlog;
  not_eligible_ = e.not_eligible;
  not_eligible_snapshots_ = e.not_eligible_snapshots;
  idle_reason_ = e.idle_reason;
  if (e.batch_id) in_flight_ = StatusSnapshot::InFlight{e.batch_id, clock_->Now(), 0};
}

void StatusBoard::Publish(const BatchEnded& e) {
  const BatchProgress& p = e.progress;
  const bool failed = p.outcome == BatchOutcome::kFailed;
  std::optional<TimePoint> committed_at;
  bool log_idle = false;
  {
    std::lock_guard lock(mu_);
    in_flight_.reset();
    if (e.committed) {
      const std::optional<Checkpoint::PendingMerge>& merge = checkpoint_.pending_merge;
      if (merge && std::find(e.committed->chain.begin(), e.committed->chain.end(), merge->id) !=
                       e.committed->chain.end()) {
        ++merges_committed_;
      }
      checkpoint_ = *e.committed;
      last_commit_ = clock_->Now();
    }
    committed_at = last_commit_;
    if (p.outcome == BatchOutcome::kIdle) {
      // An idle trigger is logged when its reason changes, not every time.
      log_idle = p.message != last_logged_idle_;
      last_logged_idle_ = p.message;
    } else {
      last_logged_idle_.clear();
      recent_.push_back(p);
      while (recent_.size() > config_.recent_batches) recent_.pop_front();
    }
  }
  metrics_.OnBatchEnd(p, committed_at ? UnixSeconds(*committed_at) : 0);
  if (p.outcome == BatchOutcome::kIdle) {
    if (log_idle) spdlog::info("idle: {}", p.message);
    else spdlog::debug("idle: {}", p.message);
  } else if (failed) {
    spdlog::error("{}", FormatProgressLine(p));
  } else {
    spdlog::info("{}", FormatProgressLine(p));
  }
  if (systemd_ && systemd_->enabled()) systemd_->Status(StatusLine());
}

void StatusBoard::Publish(const TriggerCounts& e) {
  std::lock_guard lock(mu_);
  triggers_ = e;
}

void StatusBoard::Publish(const HealthChanged& e) {
  std::lock_guard lock(mu_);
  health_ = e.verdict;
}

void StatusBoard::Publish(const DrainStarted&) {
  std::lock_guard lock(mu_);
  draining_ = true;
}

void StatusBoard::WatchMailbox(std::string actor, std::function<uint64_t()> refused,
                               std::function<uint64_t()> coalesced) {
  std::lock_guard lock(mu_);
  mailboxes_.push_back({std::move(actor), std::move(refused), std::move(coalesced)});
}

StatusSnapshot StatusBoard::SnapshotLocked() const {
  StatusSnapshot s;
  s.version = config_.version;
  s.now = clock_->Now();
  s.started = started_;
  s.uptime_seconds = Seconds(s.now - started_);
  s.healthy = health_.healthy;
  s.health_problems = health_.problems;
  s.ready = running_ && listed_ && !draining_;
  s.draining = draining_;
  s.source = config_.source;
  s.sink = config_.sink;
  s.trigger_mode = config_.trigger_mode;
  s.trigger_interval_seconds = Seconds(config_.trigger_interval);
  s.coalesced = triggers_.coalesced;
  s.fired = triggers_.fired;
  s.eligible_fires = triggers_.eligible;
  s.next_eligible = triggers_.next_eligible;
  s.partition_interval = config_.partition_interval;
  s.watermark = checkpoint_.watermark;
  s.last_commit = last_commit_;
  s.base_generation = checkpoint_.base_generation;
  s.delta_generation = checkpoint_.delta_generation;
  s.chain_segments = checkpoint_.chain.size();
  for (uint64_t b : checkpoint_.chain_bytes) s.chain_bytes += b;
  s.pending_merge = checkpoint_.pending_merge ? checkpoint_.pending_merge->id : "";
  s.merges_committed = merges_committed_;
  s.next_batch_id = checkpoint_.next_batch_id;
  if (in_flight_) {
    s.in_flight = *in_flight_;
    s.in_flight->running_seconds = Seconds(s.now - in_flight_->started);
  }
  s.backlog_partitions = backlog_;
  s.not_eligible = not_eligible_;
  s.not_eligible_snapshots = not_eligible_snapshots_;
  s.idle_reason = idle_reason_;
  return s;
}

StatusSnapshot StatusBoard::Snapshot() const {
  std::lock_guard lock(mu_);
  return SnapshotLocked();
}

std::vector<BatchProgress> StatusBoard::RecentBatches() const {
  std::lock_guard lock(mu_);
  return {recent_.begin(), recent_.end()};
}

std::string StatusBoard::StatusJson() const {
  StatusSnapshot s;
  std::vector<BatchProgress> batches;
  {
    std::lock_guard lock(mu_);
    s = SnapshotLocked();
    batches.assign(recent_.begin(), recent_.end());
  }
  return EncodeStatusJson(s, batches);
}

HealthVerdict StatusBoard::Health() const {
  std::lock_guard lock(mu_);
  return health_;
}

std::optional<std::string> StatusBoard::NotReady() const {
  std::lock_guard lock(mu_);
  if (!running_) return "starting";
  if (draining_) return "draining";
  if (!listed_) return "the first listing of the source has not completed";
  return std::nullopt;
}

std::string StatusBoard::StatusLine() const {
  StatusSnapshot s;
  std::optional<BatchProgress> last;
  {
    std::lock_guard lock(mu_);
    s = SnapshotLocked();
    if (!recent_.empty()) last = recent_.back();
  }
  std::string line = s.healthy ? "healthy" : "UNHEALTHY";
  line += "; watermark ";
  line += s.watermark ? FormatRfc3339(*s.watermark) : "none";
  if (auto lag = FreshnessLagSeconds(s)) line += fmt::format("; freshness lag {:.0f}s", *lag);
  if (last) line += fmt::format("; last batch {} {}", last->batch_id, OutcomeName(last->outcome));
  if (!s.health_problems.empty()) line += "; " + s.health_problems.front();
  return line;
}

void StatusBoard::RegisterCollectors() {
  registry_->AddCollector([this](MetricsWriter& w) {
    StatusSnapshot s;
    TriggerCounts t;
    std::vector<WatchedMailbox> boxes;
    {
      std::lock_guard lock(mu_);
      s = SnapshotLocked();
      t = triggers_;
      boxes = mailboxes_;
    }
    w.Gauge("freshet_build_info", "Always 1; the version in a label.", {{"version", config_.version}}, 1);
    w.Gauge("freshet_uptime_seconds", "Seconds since this process started its pipeline.", {}, s.uptime_seconds);
    w.Gauge("freshet_healthy", "1 while /healthz answers 200 (every actor answers, commits are recent).", {},
            s.healthy);
    w.Gauge("freshet_health_problems", "Problems the watchdog reports now (0 when healthy).", {},
            static_cast<double>(s.health_problems.size()));
    w.Gauge("freshet_ready", "1 once the watermark is loaded and the first listing is done.", {}, s.ready);
    w.Gauge("freshet_draining", "1 while draining before exit.", {}, s.draining);
    w.Gauge("freshet_trigger_interval_seconds", "The configured trigger interval.", {}, s.trigger_interval_seconds);
    w.Counter("freshet_triggers_total", "Triggers fired (each starts a batch, which may be idle).", {},
              static_cast<double>(t.fired));
    w.Counter("freshet_triggers_coalesced_total",
              "Trigger deadlines that passed while a batch was in flight (merged, never queued).", {},
              static_cast<double>(t.coalesced));
    w.Counter("freshet_triggers_early_total", "Triggers fired early by the pending-bytes rule.", {},
              static_cast<double>(t.early));
    w.Counter("freshet_triggers_eligible_total",
              "Triggers fired because a partition became eligible (its end + grace), at once or as the batch "
              "in flight ended.",
              {}, static_cast<double>(t.eligible));
    w.Gauge("freshet_backlog_partitions", "Eligible partitions left for later batches (sequential policy).", {},
            static_cast<double>(s.backlog_partitions));
    w.Gauge("freshet_not_eligible_partitions", "Partitions visible but not yet eligible (grace not passed).", {},
            static_cast<double>(s.not_eligible.size()));
    w.Gauge("freshet_batch_in_flight", "1 while a batch is being built or committed.", {}, s.in_flight.has_value());
    w.Gauge("freshet_delta_chain_segments", "Delta segments CURRENT names since the full (readers overlay them all).",
            {}, static_cast<double>(s.chain_segments));
    w.Gauge("freshet_delta_chain_bytes", "Bytes of the delta segments CURRENT names.", {},
            static_cast<double>(s.chain_bytes));
    w.Counter("freshet_merges_total", "Merges of delta segments committed by this run.", {},
              static_cast<double>(s.merges_committed));
    w.Gauge("freshet_batch_running_seconds", "How long the batch in flight has been running (0 when none).", {},
            s.in_flight ? s.in_flight->running_seconds : 0);
    if (s.watermark) {
      w.Gauge("freshet_watermark_timestamp_seconds", "Start of the newest committed partition, Unix seconds.", {},
              UnixSeconds(*s.watermark));
      w.Gauge("freshet_freshness_lag_seconds",
              "Now minus the end of the newest committed partition (watermark + partition interval).", {},
              *FreshnessLagSeconds(s));
    }
    for (const WatchedMailbox& m : boxes) {
      w.Counter("freshet_mailbox_refused_total",
                "Messages an actor's mailbox refused because it was full (requests only; acknowledgments are "
                "never refused).",
                {{"actor", m.actor}}, static_cast<double>(m.refused()));
      w.Counter("freshet_mailbox_coalesced_total",
                "Messages merged into one of the same kind already waiting in an actor's mailbox.",
                {{"actor", m.actor}}, static_cast<double>(m.coalesced()));
    }
  });
  AddProcessCollector(*registry_);
}

}  // namespace freshet
