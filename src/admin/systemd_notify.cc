#include "admin/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace freshet {
namespace {

// systemd reads one "KEY=value" assignment per line, so a status with a
// newline would end early or smuggle in a second assignment (READY=1...).
// NUL would cut the C string sd_notify takes.
std::string OneLine(std::string_view line) {
  std::string out(line);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  }
  return out;
}

// A failing socket fails every ping; one debug line per process is enough.
std::atomic<bool> send_failure_logged{false};

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  if (!enabled_) return;
  uint64_t usec = 0;
  // > 0 only when $WATCHDOG_USEC is set and $WATCHDOG_PID (if set) is us:
  // a child that inherited the variables does not ping for its parent.
  int rc = sd_watchdog_enabled(0, &usec);
  if (rc > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
  if (rc < 0) spdlog::warn("systemd: ignoring $WATCHDOG_USEC/$WATCHDOG_PID: {}", std::strerror(-rc));
}

bool SystemdNotifier::Ready(std::string_view status_line) {
  std::string m = "READY=1\nSTATUS=";
  m += OneLine(status_line);
  return Send(m);
}

bool SystemdNotifier::WatchdogPing() {
  // Without WatchdogSec (or when the watchdog is another process's) the
  // ping means nothing to systemd; skip the syscall.
  if (!watchdog_) return true;
  return Send("WATCHDOG=1");
}

bool SystemdNotifier::Stopping(std::string_view status_line) {
  std::string m = "STOPPING=1\nSTATUS=";
  m += OneLine(status_line);
  return Send(m);
}

bool SystemdNotifier::Status(std::string_view status_line) {
  std::string m = "STATUS=";
  m += OneLine(status_line);
  return Send(m);
}

bool SystemdNotifier::Send(const std::string& message) {
  if (!enabled_) return true;  // not under systemd: nothing to tell
  // sd_notify: > 0 sent, 0 no $NOTIFY_SOCKET (unset since the constructor),
  // < 0 -errno. It sends one datagram; it does not block on a full queue
  // for long (systemd drains it) and never throws.
  int rc = sd_notify(0, message.c_str());
  if (rc > 0) return true;
  if (!send_failure_logged.exchange(true)) {
    spdlog::debug("systemd: sd_notify(\"{}\") failed: {}", message.substr(0, message.find('\n')),
                  rc == 0 ? "$NOTIFY_SOCKET is gone" : std::strerror(-rc));
  }
  return false;
}

}  // namespace freshet
