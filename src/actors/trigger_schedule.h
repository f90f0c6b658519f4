// When the Ticker fires: the trigger modes as a pure state machine, driven
// by explicit times so it is tested with a manual clock.
//
// interval       fire at start + k*interval (absolute deadlines: a late
//                wake-up does not shift later ones). A deadline that passes
//                while a batch is in flight coalesces: counted, not queued.
//                Slots skipped entirely (the process was descheduled, or a
//                batch ran for several intervals) are counted as coalesced.
// continuous     fire at start, and again as soon as each batch finishes.
// once           fire at start; exit after that batch.
// available_now  fire at start and again after every batch that built
//                something; exit after the first batch with nothing to do.
// Draining (signal, planned restart) stops new fires; exit as soon as no
// batch is in flight.
#pragma once

#include <cstdint>
#include <optional>

#include "freshet/options.h"
#include "freshet/time.h"

namespace freshet {

struct TickerActions {
  bool fire = false;                  // start a batch now
  std::optional<TimePoint> arm;       // (re)arm the timer for this deadline
  bool exit = false;                  // the run is over
  bool failed = false;                // with exit: the last batch failed (once/available_now)
};

class TriggerSchedule {
 public:
  TriggerSchedule(TriggerMode mode, Duration interval) : mode_(mode), interval_(interval) {}

  TickerActions Start(TimePoint now);
  TickerActions OnDeadline(TimePoint now);
  // `built`: the batch committed a generation; `failed`: it ended in error.
  TickerActions OnBatchFinished(TimePoint now, bool built, bool failed);
  TickerActions Drain();

  bool in_flight() const { return in_flight_; }
  bool draining() const { return draining_; }
  uint64_t fired() const { return fired_; }
  uint64_t coalesced() const { return coalesced_; }
  std::optional<TimePoint> next_deadline() const { return next_; }

 private:
  TickerActions Fire(TickerActions a);
  TimePoint NextSlotAfter(TimePoint now) const;

  TriggerMode mode_;
  Duration interval_;
  TimePoint start_{};
  std::optional<TimePoint> next_;
  bool in_flight_ = false;
  bool draining_ = false;
  uint64_t fired_ = 0;
  uint64_t coalesced_ = 0;
};

}  // namespace freshet
