// systemd integration through libsystemd's sd_notify (man sd_notify(3)):
// READY=1 once start-up is done, WATCHDOG=1 pings while healthy,
// STOPPING=1 on drain, STATUS=<one line> for `systemctl status`.
// Outside systemd (no $NOTIFY_SOCKET) every call is a cheap no-op.
//
// Sending never blocks the caller (the daemon's io_context thread): a
// datagram to a receiver that does not read (a stuck or busy systemd)
// blocks in sendmsg once the socket's queue is full, so messages go
// through a small queue to a sender thread of this object's own. When the
// queue is full, the oldest STATUS=/WATCHDOG=1 message is dropped (a later
// one says the same, newer); READY=1 and STOPPING=1 are never dropped.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace freshet {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID once (through
  // sd_watchdog_enabled). Does not unset them.
  SystemdNotifier();
  // Waits up to a second for queued messages to go out (STOPPING=1 at
  // exit), then leaves; a sender stuck on a receiver that never reads is
  // abandoned to the process's exit.
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return enabled_; }
  // The unit's WatchdogSec when systemd asked for pings, else nullopt.
  // Ping at half of it (the sd_watchdog_enabled(3) advice).
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  // Each queues one message and returns false only when it had to be
  // dropped (queue full, see above). Outside systemd they send nothing and
  // return true, as does WatchdogPing() when systemd asked for no pings
  // (watchdog_interval() is nullopt). Status lines are sent as one line:
  // CR, LF and NUL become spaces.
  bool Ready(std::string_view status_line);
  bool WatchdogPing();
  bool Stopping(std::string_view status_line);
  bool Status(std::string_view status_line);

  // Waits until every queued message was handed to sd_notify. False on
  // timeout, or when a send failed since the last Flush (logged once at
  // debug level).
  bool Flush(std::chrono::milliseconds timeout);

 private:
  struct Sender;
  bool Send(std::string message, bool droppable);
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  std::shared_ptr<Sender> sender_;  // shared with its thread, which may outlive us (see the destructor)
};

}  // namespace freshet
