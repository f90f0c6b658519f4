// Ticker actor: decides when a batch starts (trigger_schedule.h has the
// modes as a pure state machine) and never blocks: a deadline that
// arrives while a batch is in flight is coalesced and counted, not queued.
//
// Receives DeadlineDue and ProbeDue (its own ClockTimers, on the pipeline's
// Clock: absolute deadlines, so no drift), BatchFinished, PendingMeasured,
// DrainRequest, Ping. Sends ListNow to the Lister (a batch, or a probe for
// the hybrid rule) and RunEnded to RunControl when the run is over.
//
// Strand: all state lives in the receive loop on the mailbox's strand.
#pragma once

#include <memory>

#include "actors/clock_timer.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "actors/trigger_schedule.h"
#include "admin/status_board.h"
#include "base/clock.h"

namespace freshet {

class Ticker : public std::enable_shared_from_this<Ticker> {
 public:
  struct Outputs {
    Mailbox<ListerMsg>* lister = nullptr;
    Mailbox<ControlMsg>* control = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    StatusBoard* board = nullptr;
  };
  struct Config {
    TriggerMode mode = TriggerMode::kInterval;
    Duration interval = std::chrono::seconds(30);
    // > 0 (interval mode): probe every `probe_interval`, fire early at this
    // much eligible, unbuilt input.
    uint64_t pending_bytes_threshold = 0;
    Duration probe_interval = std::chrono::seconds(5);
    // Interval mode: also fire when a partition becomes eligible.
    std::optional<EligibilityGrid> eligibility;
  };
  Ticker(asio::io_context& io, Config config, const Clock* clock);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();  // the schedule starts now (on the Clock)
  Mailbox<TickerMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  void Apply(const TickerActions& a);
  void ArmProbe();

  Mailbox<TickerMsg> mailbox_;
  Config config_;
  const Clock* clock_;
  Outputs out_;
  TriggerSchedule schedule_;
  ClockTimer deadline_timer_, probe_timer_;
  bool exited_ = false;
};

}  // namespace freshet
