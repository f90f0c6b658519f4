// The Watchdog's judgement as pure logic: heartbeats per actor, the batch
// in flight, eligible input left uncommitted, and planned restarts. The
// Watchdog actor feeds it events with explicit times; tests use a manual
// clock.
//
// Unhealthy means something is wrong that a restart might fix or a human
// must see: an actor silent for actor_stall, a batch running for
// batch_stall, or eligible input waiting without a commit for
// max_commit_age. The last is measured from the latest of: when the input
// became eligible, the last commit (progress through a backlog is
// progress), and the start (a restart behind a backlog gets a full
// max_commit_age to catch up). A quiet source, with nothing eligible
// waiting, is healthy however old the last commit is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin/health_verdict.h"
#include "config/options.h"
#include "freshet/time.h"

namespace freshet {

class HealthTracker {
 public:
  HealthTracker(const WatchdogOptions& opts, TimePoint started) : opts_(opts), started_(started) {}

  void Register(const std::string& actor);
  // A heartbeat with sequence `seq` was sent / answered.
  void OnPing(const std::string& actor, uint64_t seq, TimePoint now);
  void OnPong(const std::string& actor, uint64_t seq, TimePoint now);
  void OnBatchStarted(uint64_t batch_id, TimePoint now);
  void OnBatchFinished(TimePoint now, bool committed);
  // After every plan: since when eligible input has waited (nullopt: none).
  // While input keeps waiting the earliest time is kept.
  void OnInputWaiting(std::optional<TimePoint> since);

  HealthVerdict Evaluate(TimePoint now) const;
  std::optional<TimePoint> last_commit() const { return last_commit_; }

 private:
  struct ActorState {
    uint64_t last_sent = 0, last_answered = 0;
    std::optional<TimePoint> oldest_unanswered;  // send time of the oldest ping not yet answered
    std::map<uint64_t, TimePoint> in_flight;     // seq -> send time
  };
  WatchdogOptions opts_;
  TimePoint started_;
  std::map<std::string, ActorState> actors_;
  std::optional<std::pair<uint64_t, TimePoint>> batch_;  // id, start
  std::optional<TimePoint> last_commit_;
  std::optional<TimePoint> waiting_since_;
};

}  // namespace freshet
