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
//
// Hybrid rule (interval mode, pending_bytes_threshold > 0): between
// deadlines the Ticker probes (a listing, no build) and fires early when the
// eligible input not yet built reaches the threshold. A probe never overlaps
// a batch; a deadline that passes during a probe fires when it returns.
#pragma once

#include <cstdint>
#include <optional>

#include "config/options.h"
#include "freshet/time.h"

namespace freshet {

struct TickerActions {
  bool fire = false;                  // start a batch now
  bool probe = false;                 // measure pending input now (hybrid rule)
  std::optional<TimePoint> arm;       // (re)arm the timer for this deadline
  bool exit = false;                  // the run is over
  bool failed = false;                // with exit: the last batch failed (once/available_now)
};

class TriggerSchedule {
 public:
  TriggerSchedule(TriggerMode mode, Duration interval, uint64_t pending_bytes_threshold = 0)
      : mode_(mode), interval_(interval), threshold_(pending_bytes_threshold) {}

  TickerActions Start(TimePoint now);
  TickerActions OnDeadline(TimePoint now);
  // `built`: the batch committed a generation; `failed`: it ended in error.
  TickerActions OnBatchFinished(TimePoint now, bool built, bool failed);
  TickerActions Drain();
  // The probe timer fired: probe unless a batch or probe is running.
  TickerActions OnProbeTimer();
  // The probe measured `pending_bytes` of eligible, unbuilt input.
  TickerActions OnProbeResult(uint64_t pending_bytes);

  bool in_flight() const { return in_flight_; }
  bool draining() const { return draining_; }
  uint64_t fired() const { return fired_; }
  uint64_t coalesced() const { return coalesced_; }
  uint64_t early_fires() const { return early_fires_; }
  bool probing() const { return probing_; }
  std::optional<TimePoint> next_deadline() const { return next_; }

 private:
  TickerActions Fire(TickerActions a);
  TimePoint NextSlotAfter(TimePoint now) const;

  TriggerMode mode_;
  Duration interval_;
  uint64_t threshold_;
  TimePoint start_{};
  std::optional<TimePoint> next_;
  bool in_flight_ = false;
  bool draining_ = false;
  bool probing_ = false;
  bool fire_after_probe_ = false;
  uint64_t fired_ = 0;
  uint64_t early_fires_ = 0;
  uint64_t coalesced_ = 0;
};

}  // namespace freshet
