// When the Ticker fires: the trigger modes as a pure state machine, driven
// by explicit times so it is tested with a manual clock.
//
// interval       fire at start + k*interval (absolute deadlines: a late
//                wake-up does not shift later ones). A deadline that passes
//                while a batch is in flight coalesces: counted, not queued.
//                Slots skipped entirely (the process was descheduled, or a
//                batch ran for several intervals) are counted as coalesced.
//                With an eligibility grid, also fire at each partition
//                slot's end + grace (slots line up with midnight, so these
//                are k*partition_interval + grace since the epoch): a
//                partition is built the moment it becomes eligible, not up
//                to one interval later. One that becomes eligible while a
//                batch is in flight fires once when that batch ends (any
//                number of them coalesce into that one fire, counted).
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

// When partitions become eligible: slot ends + grace.
struct EligibilityGrid {
  Duration partition_interval{0};  // > 0
  Duration grace{0};
  // The first instant after `now` at which a slot becomes eligible.
  TimePoint NextAfter(TimePoint now) const;
};

struct TickerActions {
  bool fire = false;                  // start a batch now
  bool probe = false;                 // measure pending input now (hybrid rule)
  std::optional<TimePoint> arm;       // (re)arm the timer for this deadline
  bool exit = false;                  // the run is over
  bool failed = false;                // with exit: the last batch failed (once/available_now)
};

class TriggerSchedule {
 public:
  // `grid`: fire at eligibility instants too (interval mode only).
  TriggerSchedule(TriggerMode mode, Duration interval, uint64_t pending_bytes_threshold = 0,
                  std::optional<EligibilityGrid> grid = std::nullopt)
      : mode_(mode), interval_(interval), threshold_(pending_bytes_threshold), grid_(grid) {}

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
  // Fires started by a partition becoming eligible (at once or, when a
  // batch was in flight, as it ended).
  uint64_t eligible_fires() const { return eligible_fires_; }
  bool probing() const { return probing_; }
  std::optional<TimePoint> next_deadline() const { return next_; }
  std::optional<TimePoint> next_eligible() const { return next_eligible_; }

 private:
  TickerActions Fire(TickerActions a);
  TimePoint NextSlotAfter(TimePoint now) const;
  // The earlier of the two deadlines, for the one timer.
  std::optional<TimePoint> Earliest() const;

  TriggerMode mode_;
  Duration interval_;
  uint64_t threshold_;
  std::optional<EligibilityGrid> grid_;
  TimePoint start_{};
  std::optional<TimePoint> next_;
  std::optional<TimePoint> next_eligible_;
  bool fire_after_batch_ = false;  // a partition became eligible during the batch
  bool eligible_after_probe_ = false;
  bool in_flight_ = false;
  bool draining_ = false;
  bool probing_ = false;
  bool fire_after_probe_ = false;
  uint64_t fired_ = 0;
  uint64_t early_fires_ = 0;
  uint64_t eligible_fires_ = 0;
  uint64_t coalesced_ = 0;
};

}  // namespace freshet
