// Ticker actor: decides when a batch starts (see trigger_schedule.h for the
// modes) and never blocks: a deadline that arrives while a batch is in
// flight is coalesced and counted, not queued.
//
// Strand: all state lives on the mailbox's strand. Public methods only post.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/system_timer.hpp>

#include "actors/mailbox.h"
#include "actors/trigger_schedule.h"
#include "base/clock.h"

namespace freshet {

class Ticker : public std::enable_shared_from_this<Ticker> {
 public:
  struct Hooks {
    std::function<void(TimePoint trigger_time)> fire;  // start a batch
    std::function<void(bool failed)> exit;             // the run is over (drained, once, available_now)
  };
  Ticker(asio::io_context& io, TriggerMode mode, Duration interval, const Clock* clock, Hooks hooks);

  void Start();
  // The batch started by the last fire has ended.
  void BatchFinished(bool built, bool failed);
  // Stop firing; exit once no batch is in flight.
  void Drain();
  // Heartbeat: `pong` is called from the strand.
  void Ping(std::function<void()> pong);

  uint64_t coalesced() const { return coalesced_.load(); }
  uint64_t fired() const { return fired_.load(); }
  Mailbox& mailbox() { return mailbox_; }

 private:
  void Apply(const TickerActions& a);
  void Arm(TimePoint deadline);

  Mailbox mailbox_;
  asio::system_timer timer_;
  TriggerSchedule schedule_;
  const Clock* clock_;
  Hooks hooks_;
  bool exited_ = false;
  std::atomic<uint64_t> coalesced_{0}, fired_{0};  // mirrors for metrics readers
};

}  // namespace freshet
