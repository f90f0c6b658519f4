#include "actors/trigger_schedule.h"

namespace freshet {

TimePoint TriggerSchedule::NextSlotAfter(TimePoint now) const {
  auto elapsed = now - start_;
  auto k = elapsed / interval_ + 1;
  return start_ + k * interval_;
}

TickerActions TriggerSchedule::Fire(TickerActions a) {
  a.fire = true;
  in_flight_ = true;
  ++fired_;
  return a;
}

TickerActions TriggerSchedule::Start(TimePoint now) {
  start_ = now;
  TickerActions a;
  if (mode_ == TriggerMode::kInterval) {
    next_ = NextSlotAfter(now);
    a.arm = next_;
  }
  return Fire(a);
}

TickerActions TriggerSchedule::OnDeadline(TimePoint now) {
  TickerActions a;
  if (mode_ != TriggerMode::kInterval || draining_ || !next_) return a;
  if (now < *next_) {  // early wake-up: re-arm for the same deadline
    a.arm = next_;
    return a;
  }
  // Slots that passed without a wake-up at all count as coalesced too.
  auto missed = (now - *next_) / interval_;
  coalesced_ += static_cast<uint64_t>(missed);
  next_ = NextSlotAfter(now);
  a.arm = next_;
  if (in_flight_) {
    ++coalesced_;
    return a;
  }
  if (probing_) {  // fire as soon as the probe returns
    fire_after_probe_ = true;
    return a;
  }
  return Fire(a);
}

TickerActions TriggerSchedule::OnProbeTimer() {
  TickerActions a;
  if (mode_ != TriggerMode::kInterval || threshold_ == 0 || in_flight_ || probing_ || draining_) return a;
  probing_ = true;
  a.probe = true;
  return a;
}

TickerActions TriggerSchedule::OnProbeResult(uint64_t pending_bytes) {
  TickerActions a;
  if (!probing_) return a;
  probing_ = false;
  bool deadline = fire_after_probe_;
  fire_after_probe_ = false;
  if (draining_ || in_flight_) return a;
  if (deadline) return Fire(a);
  if (pending_bytes >= threshold_) {
    ++early_fires_;
    return Fire(a);
  }
  return a;
}

TickerActions TriggerSchedule::OnBatchFinished(TimePoint /*now*/, bool built, bool failed) {
  in_flight_ = false;
  TickerActions a;
  if (draining_) {
    a.exit = true;
    a.failed = failed;
    return a;
  }
  switch (mode_) {
    case TriggerMode::kInterval:
      return a;
    case TriggerMode::kContinuous:
      return Fire(a);
    case TriggerMode::kOnce:
      a.exit = true;
      a.failed = failed;
      return a;
    case TriggerMode::kAvailableNow:
      if (built && !failed) return Fire(a);
      a.exit = true;
      a.failed = failed;
      return a;
  }
  return a;
}

TickerActions TriggerSchedule::Drain() {
  draining_ = true;
  next_.reset();
  TickerActions a;
  if (!in_flight_) a.exit = true;
  return a;
}

}  // namespace freshet
