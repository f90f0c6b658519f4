#include "actors/trigger_schedule.h"

#include "base/floor_div.h"

namespace freshet {

TimePoint EligibilityGrid::NextAfter(TimePoint now) const {
  // Slot k (starting at k*interval) is eligible at (k+1)*interval + grace.
  const int64_t n = partition_interval.count();
  const int64_t k = FloorDiv((now - grace).time_since_epoch().count(), n);
  return TimePoint(Duration((k + 1) * n)) + grace;
}

TimePoint TriggerSchedule::NextSlotAfter(TimePoint now) const {
  auto elapsed = now - start_;
  auto k = elapsed / interval_ + 1;
  return start_ + k * interval_;
}

std::optional<TimePoint> TriggerSchedule::Earliest() const {
  if (!next_) return next_eligible_;
  if (!next_eligible_) return next_;
  return std::min(*next_, *next_eligible_);
}

TickerActions TriggerSchedule::Fire(TickerActions a) {
  a.fire = true;
  in_flight_ = true;
  fire_after_batch_ = false;  // this batch lists whatever became eligible
  ++fired_;
  return a;
}

TickerActions TriggerSchedule::Start(TimePoint now) {
  start_ = now;
  TickerActions a;
  if (mode_ == TriggerMode::kInterval) {
    next_ = NextSlotAfter(now);
    if (grid_) next_eligible_ = grid_->NextAfter(now);
    a.arm = Earliest();
  }
  return Fire(a);
}

TickerActions TriggerSchedule::OnDeadline(TimePoint now) {
  TickerActions a;
  if (mode_ != TriggerMode::kInterval || draining_ || !next_) return a;
  const bool interval_due = now >= *next_;
  const bool eligible_due = next_eligible_ && now >= *next_eligible_;
  if (!interval_due && !eligible_due) {  // early wake-up: re-arm for the same deadline
    a.arm = Earliest();
    return a;
  }
  if (interval_due) {
    // Slots that passed without a wake-up at all count as coalesced too.
    auto missed = (now - *next_) / interval_;
    coalesced_ += static_cast<uint64_t>(missed);
    next_ = NextSlotAfter(now);
  }
  if (eligible_due) next_eligible_ = grid_->NextAfter(now);
  a.arm = Earliest();
  if (in_flight_) {
    ++coalesced_;
    // The batch in flight listed before this partition was eligible: one
    // more batch as soon as it ends, rather than at the next interval.
    if (eligible_due) fire_after_batch_ = true;
    return a;
  }
  if (probing_) {  // fire as soon as the probe returns
    fire_after_probe_ = true;
    eligible_after_probe_ = eligible_after_probe_ || eligible_due;
    return a;
  }
  if (eligible_due) ++eligible_fires_;
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
  bool eligible = eligible_after_probe_;
  fire_after_probe_ = eligible_after_probe_ = false;
  if (draining_ || in_flight_) return a;
  if (deadline) {
    if (eligible) ++eligible_fires_;
    return Fire(a);
  }
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
      if (fire_after_batch_) {
        ++eligible_fires_;
        return Fire(a);
      }
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
  next_eligible_.reset();
  fire_after_batch_ = false;
  TickerActions a;
  if (!in_flight_) a.exit = true;
  return a;
}

}  // namespace freshet
