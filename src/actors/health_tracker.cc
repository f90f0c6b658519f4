#include "actors/health_tracker.h"

#include "freshet/time.h"

namespace freshet {

void HealthTracker::Register(const std::string& actor) { actors_[actor]; }

void HealthTracker::OnPing(const std::string& actor, uint64_t seq, TimePoint now) {
  auto& a = actors_[actor];
  a.last_sent = seq;
  a.in_flight.emplace(seq, now);
  // Bound the map: a dead actor must not grow it without limit.
  while (a.in_flight.size() > 64) a.in_flight.erase(a.in_flight.begin());
}

void HealthTracker::OnPong(const std::string& actor, uint64_t seq, TimePoint) {
  auto& a = actors_[actor];
  a.last_answered = std::max(a.last_answered, seq);
  // An answer to seq proves every earlier ping was processed (mailboxes are FIFO).
  a.in_flight.erase(a.in_flight.begin(), a.in_flight.upper_bound(seq));
}

void HealthTracker::OnBatchStarted(uint64_t batch_id, TimePoint now) { batch_ = {batch_id, now}; }

void HealthTracker::OnBatchFinished(TimePoint now, bool committed) {
  batch_.reset();
  if (committed) last_commit_ = now;
}

void HealthTracker::OnInputWaiting(std::optional<TimePoint> since) {
  if (!since) {
    waiting_since_.reset();
  } else if (!waiting_since_ || *since < *waiting_since_) {
    waiting_since_ = since;
  }
}

HealthVerdict HealthTracker::Evaluate(TimePoint now) const {
  HealthVerdict v;
  for (const auto& [name, a] : actors_) {
    if (!a.in_flight.empty() && now - a.in_flight.begin()->second > opts_.actor_stall) {
      v.healthy = false;
      v.problems.push_back("actor " + name + " has not answered a heartbeat for " +
                           FormatDuration(std::chrono::duration_cast<Duration>(now - a.in_flight.begin()->second)));
    }
  }
  if (batch_ && now - batch_->second > opts_.batch_stall) {
    v.healthy = false;
    v.problems.push_back("batch " + std::to_string(batch_->first) + " stalled: running for " +
                         FormatDuration(std::chrono::duration_cast<Duration>(now - batch_->second)));
  }
  if (opts_.max_commit_age.count() > 0 && waiting_since_) {
    TimePoint since = std::max(*waiting_since_, last_commit_.value_or(started_));
    if (now - since > opts_.max_commit_age) {
      v.healthy = false;
      v.problems.push_back("eligible input waiting since " + FormatRfc3339(*waiting_since_) + ", " +
                           (last_commit_ ? "last commit " + FormatDuration(std::chrono::duration_cast<Duration>(
                                                                now - *last_commit_)) + " ago"
                                         : std::string("no commit since start")) +
                           " (limit " + FormatDuration(opts_.max_commit_age) + ")");
    }
  }
  if (opts_.max_uptime.count() > 0 && now - started_ >= opts_.max_uptime) v.restart_due = true;
  return v;
}

}  // namespace freshet
