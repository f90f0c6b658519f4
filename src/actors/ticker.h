// Ticker actor: decides when a batch starts (see trigger_schedule.h for the
// modes) and never blocks: a deadline that arrives while a batch is in
// flight is coalesced and counted, not queued.
//
// Deadlines are absolute times on the Clock; see Arm().
//
// Strand: all state lives on the mailbox's strand. Public methods only post.
#pragma once

#include <functional>
#include <memory>


#include "actors/mailbox.h"
#include "actors/trigger_schedule.h"
#include "base/clock.h"

namespace freshet {

class Ticker : public std::enable_shared_from_this<Ticker> {
 public:
  struct Hooks {
    std::function<void(TimePoint trigger_time)> fire;  // start a batch
    std::function<void(bool failed)> exit;             // the run is over (drained, once, available_now)
    // Hybrid rule only: measure eligible unbuilt input; call `result` with
    // its bytes (from any thread).
    std::function<void(std::function<void(uint64_t)> result)> probe;
  };
  // `pending_bytes_threshold` > 0 (interval mode) probes every
  // `probe_interval` and fires early at that much pending input.
  Ticker(asio::io_context& io, TriggerMode mode, Duration interval, const Clock* clock, Hooks hooks,
         uint64_t pending_bytes_threshold = 0, Duration probe_interval = std::chrono::seconds(5));

  void Start();
  // The batch started by the last fire has ended.
  void BatchFinished(bool built, bool failed);
  // Stop firing; exit once no batch is in flight.
  void Drain();
  // Heartbeat: `pong` is called from the strand.
  void Ping(std::function<void()> pong);

  uint64_t coalesced() const { return coalesced_.load(); }
  uint64_t fired() const { return fired_.load(); }
  uint64_t early_fires() const { return early_fires_.load(); }
  Mailbox& mailbox() { return mailbox_; }

 private:
  void Apply(const TickerActions& a);
  void Arm(TimePoint deadline);
  void ArmProbe();

  Mailbox mailbox_;
  asio::steady_timer timer_;
  asio::steady_timer probe_timer_;
  Duration probe_interval_;
  TriggerSchedule schedule_;
  const Clock* clock_;
  Hooks hooks_;
  bool exited_ = false;
  std::atomic<uint64_t> coalesced_{0}, fired_{0}, early_fires_{0};  // mirrors for metrics readers
};

}  // namespace freshet
