#include "admin/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

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

// Queued messages beyond which droppable ones give way.
constexpr size_t kMaxQueued = 32;

}  // namespace

struct SystemdNotifier::Sender {
  std::mutex mu;
  std::condition_variable cv;
  struct Message {
    std::string text;
    bool droppable;
  };
  std::deque<Message> queue;  // guarded by mu
  bool busy = false;          // a message is being sent
  bool stop = false;
  bool failed = false;        // a send failed since the last Flush

  // The sender thread: sd_notify may block (a receiver that does not read);
  // only this thread waits for it.
  void Run() {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stop, and everything sent
      std::string text = std::move(queue.front().text);
      queue.pop_front();
      busy = true;
      lock.unlock();
      // > 0 sent, 0 no $NOTIFY_SOCKET (unset since), < 0 -errno.
      int rc = sd_notify(0, text.c_str());
      if (rc <= 0 && !send_failure_logged.exchange(true)) {
        spdlog::debug("systemd: sd_notify(\"{}\") failed: {}", text.substr(0, text.find('\n')),
                      rc == 0 ? "$NOTIFY_SOCKET is gone" : std::strerror(-rc));
      }
      lock.lock();
      busy = false;
      if (rc <= 0) failed = true;
      cv.notify_all();
    }
  }
};

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
  sender_ = std::make_shared<Sender>();
  std::thread([sender = sender_] { sender->Run(); }).detach();
}

SystemdNotifier::~SystemdNotifier() {
  if (!sender_) return;
  Flush(std::chrono::seconds(1));
  std::lock_guard lock(sender_->mu);
  sender_->stop = true;
  sender_->cv.notify_all();
  // The thread holds its own reference and ends once the queue is empty;
  // if it is stuck in sd_notify, the process's exit ends it.
}

bool SystemdNotifier::Flush(std::chrono::milliseconds timeout) {
  if (!sender_) return true;
  std::unique_lock lock(sender_->mu);
  bool drained = sender_->cv.wait_for(lock, timeout, [&] { return sender_->queue.empty() && !sender_->busy; });
  bool ok = drained && !sender_->failed;
  sender_->failed = false;
  return ok;
}

bool SystemdNotifier::Ready(std::string_view status_line) {
  std::string m = "READY=1\nSTATUS=";
  m += OneLine(status_line);
  return Send(std::move(m), false);
}

bool SystemdNotifier::WatchdogPing() {
  // Without WatchdogSec (or when the watchdog is another process's) the
  // ping means nothing to systemd; skip the syscall.
  if (!watchdog_) return true;
  return Send("WATCHDOG=1", true);
}

bool SystemdNotifier::Stopping(std::string_view status_line) {
  std::string m = "STOPPING=1\nSTATUS=";
  m += OneLine(status_line);
  return Send(std::move(m), false);
}

bool SystemdNotifier::Status(std::string_view status_line) {
  std::string m = "STATUS=";
  m += OneLine(status_line);
  return Send(std::move(m), true);
}

bool SystemdNotifier::Send(std::string message, bool droppable) {
  if (!enabled_) return true;  // not under systemd: nothing to tell
  std::lock_guard lock(sender_->mu);
  auto& q = sender_->queue;
  if (q.size() >= kMaxQueued) {
    // The oldest STATUS/WATCHDOG makes room (a newer one says the same);
    // READY and STOPPING are always queued.
    auto oldest = std::find_if(q.begin(), q.end(), [](const Sender::Message& m) { return m.droppable; });
    if (oldest != q.end()) q.erase(oldest);
    else if (droppable) return false;
  }
  q.push_back({std::move(message), droppable});
  sender_->cv.notify_all();
  return true;
}

}  // namespace freshet
