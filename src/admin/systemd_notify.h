// systemd integration through libsystemd's sd_notify (man sd_notify(3)):
// READY=1 once start-up is done, WATCHDOG=1 pings while healthy,
// STOPPING=1 on drain, STATUS=<one line> for `systemctl status`.
// Outside systemd (no $NOTIFY_SOCKET) every call is a cheap no-op.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace freshet {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID once (through
  // sd_watchdog_enabled). Does not unset them.
  SystemdNotifier();

  bool enabled() const { return enabled_; }
  // The unit's WatchdogSec when systemd asked for pings, else nullopt.
  // Ping at half of it (the sd_watchdog_enabled(3) advice).
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  // Each returns false when the message could not be sent (and logs once
  // at debug); never throws, never blocks for long (a datagram socket).
  // Outside systemd they send nothing and return true, as does
  // WatchdogPing() when systemd asked for no pings (watchdog_interval()
  // is nullopt). Status lines are sent as one line: CR, LF and NUL become
  // spaces.
  bool Ready(std::string_view status_line);
  bool WatchdogPing();
  bool Stopping(std::string_view status_line);
  bool Status(std::string_view status_line);

 private:
  bool Send(const std::string& message);
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace freshet
