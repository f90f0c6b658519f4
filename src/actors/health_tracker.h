// The Watchdog's judgement as pure logic: heartbeats per actor, the batch
// in flight, the age of the last commit, and planned restarts. The Watchdog
// actor feeds it events with explicit times; tests use a manual clock.
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
};

}  // namespace freshet
