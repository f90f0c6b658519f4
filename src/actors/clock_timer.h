// A one-shot timer for an absolute time on a Clock, so every actor timer
// (trigger deadlines, heartbeats, probes, the drain bound) runs on the
// Clock interface and tests move time with a ManualClock instead of
// sleeping.
//
// It waits on a steady timer for the distance to the deadline as the Clock
// sees it and looks again when that expires (a wall-clock step neither
// fires it early nor loses it) or when the Clock says it moved (ManualClock
// calls its watchers). `fire` runs on the strand, at most once per Arm().
//
// Strand: Arm() and Cancel() only on `strand`; the destructor anywhere
// after the strand stopped using it.
#pragma once

#include <functional>
#include <memory>

#include "actors/io.h"
#include "base/clock.h"

namespace freshet {

class ClockTimer {
 public:
  ClockTimer(Strand strand, const Clock* clock);
  ~ClockTimer();
  ClockTimer(const ClockTimer&) = delete;
  ClockTimer& operator=(const ClockTimer&) = delete;

  // Replaces any earlier deadline: only the last Arm() fires.
  void Arm(TimePoint deadline, std::function<void()> fire);
  void Cancel();

 private:
  struct State;
  std::shared_ptr<State> state_;
  uint64_t watch_token_ = 0;
};

}  // namespace freshet
