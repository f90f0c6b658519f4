// The status board: everything the operations surface shows, fed by plain
// progress events from the actors and read by the admin endpoint, the
// metrics scrape, systemd's STATUS line and the log.
//
// It owns the recent batch reports, the /status document, readiness, the
// pipeline's metric families and scrape-time collectors, the one-line
// progress log per batch and the systemd STATUS line. No Asio: tests feed
// it events and read what an operator would see, without a daemon.
//
// Thread-safety: every method may be called from any thread (actors post
// events from their strands, the admin endpoint reads from its own); one
// mutex guards the board's state, never held while calling out.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admin/batch_progress.h"
#include "admin/health_verdict.h"
#include "admin/pipeline_metrics.h"
#include "admin/status_json.h"
#include "admin/systemd_notify.h"
#include "base/clock.h"
#include "metrics/metrics.h"
#include "sink/checkpoint.h"

namespace freshet {

// What the board shows that does not change during a run.
struct BoardConfig {
  std::string version;
  std::string source, sink;  // Describe(): never credentials
  std::string trigger_mode;
  Duration trigger_interval{};
  Duration partition_interval{};
  size_t recent_batches = 30;  // admin.status_batches
};

// --- Progress events -------------------------------------------------------

// The sink's state was recovered and the actors are about to start.
struct RunStarted {
  Checkpoint checkpoint;
};
// A listing of the source completed (readiness).
struct SourceListed {};
// A plan was made: what is waiting. `batch_id` > 0 when it starts a build.
struct InputPlanned {
  uint64_t batch_id = 0;
  uint64_t backlog = 0;
  std::vector<PendingInput> not_eligible, not_eligible_snapshots;
  std::string idle_reason;  // when nothing was built
};
// A batch ended, whatever the outcome; `committed` with its checkpoint.
struct BatchEnded {
  BatchProgress progress;
  std::optional<Checkpoint> committed;
};
// The Ticker's counters moved.
struct TriggerCounts {
  uint64_t fired = 0, coalesced = 0, early = 0;
  uint64_t eligible = 0;                   // fired because a partition became eligible
  std::optional<TimePoint> next_eligible;  // when the next partition becomes eligible
};
struct HealthChanged {
  HealthVerdict verdict;
};
struct DrainStarted {
  std::string why;
};

class StatusBoard {
 public:
  // REQUIRES: `registry` and `clock` outlive the board; `systemd` may be
  // nullptr (no STATUS lines).
  StatusBoard(BoardConfig config, const Clock* clock, MetricsRegistry* registry, SystemdNotifier* systemd);
  ~StatusBoard();

  void Publish(const RunStarted& e);
  void Publish(const SourceListed& e);
  void Publish(const InputPlanned& e);
  void Publish(const BatchEnded& e);
  void Publish(const TriggerCounts& e);
  void Publish(const HealthChanged& e);
  void Publish(const DrainStarted& e);

  // An actor's mailbox, for freshet_mailbox_*_total{actor}: read at scrape time.
  void WatchMailbox(std::string actor, std::function<uint64_t()> refused, std::function<uint64_t()> coalesced);

  // Views.
  StatusSnapshot Snapshot() const;
  std::vector<BatchProgress> RecentBatches() const;  // oldest first
  std::string StatusJson() const;
  HealthVerdict Health() const;
  // nullopt when ready (running, the first listing done, not draining).
  std::optional<std::string> NotReady() const;
  // One line for systemd's STATUS= (`systemctl status`).
  std::string StatusLine() const;

 private:
  void RegisterCollectors();
  StatusSnapshot SnapshotLocked() const;

  const BoardConfig config_;
  const Clock* clock_;
  MetricsRegistry* registry_;
  SystemdNotifier* systemd_;
  PipelineMetrics metrics_;

  mutable std::mutex mu_;
  // Everything below is guarded by mu_.
  bool running_ = false, listed_ = false, draining_ = false;
  TimePoint started_{};
  Checkpoint checkpoint_;
  uint64_t merges_committed_ = 0;  // this run's commits that carried a merge
  std::optional<TimePoint> last_commit_;
  std::optional<StatusSnapshot::InFlight> in_flight_;
  uint64_t backlog_ = 0;
  std::vector<PendingInput> not_eligible_, not_eligible_snapshots_;
  std::string idle_reason_, last_logged_idle_;
  std::deque<BatchProgress> recent_;
  TriggerCounts triggers_;
  HealthVerdict health_;
  struct WatchedMailbox {
    std::string actor;
    std::function<uint64_t()> refused, coalesced;
  };
  std::vector<WatchedMailbox> mailboxes_;
};

}  // namespace freshet
