// The clock behind every "now" in freshet, so tests drive time by hand.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "freshet/time.h"

namespace freshet {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock UTC now. Thread-safe.
  virtual TimePoint Now() const = 0;

  // Timers that wait for a time on this clock (actors/clock_timer.h) wait
  // on a steady timer for the distance; a clock that jumps (ManualClock)
  // calls every watcher after each move, from the thread that moved it, so
  // they look again. A real clock never calls them. Returns a token for
  // Unwatch (0: this clock never calls). Thread-safe.
  virtual uint64_t Watch(std::function<void()> on_change) const {
    (void)on_change;
    return 0;
  }
  virtual void Unwatch(uint64_t token) const { (void)token; }
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
  static SystemClock* Instance() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_ms_(ToUnixMillis(start)) {}
  TimePoint Now() const override { return FromUnixMillis(now_ms_.load()); }
  void Set(TimePoint t) {
    now_ms_.store(ToUnixMillis(t));
    Notify();
  }
  void Advance(std::chrono::milliseconds d) {
    now_ms_.fetch_add(d.count());
    Notify();
  }

  uint64_t Watch(std::function<void()> on_change) const override {
    std::lock_guard lock(mu_);
    watchers_[++last_token_] = std::move(on_change);
    return last_token_;
  }
  void Unwatch(uint64_t token) const override {
    std::lock_guard lock(mu_);
    watchers_.erase(token);
  }

 private:
  void Notify() {
    std::vector<std::function<void()>> calls;
    {
      std::lock_guard lock(mu_);
      for (const auto& [token, fn] : watchers_) calls.push_back(fn);
    }
    for (const auto& fn : calls) fn();  // outside the lock: a watcher may Unwatch
  }

  std::atomic<int64_t> now_ms_;
  mutable std::mutex mu_;
  mutable std::map<uint64_t, std::function<void()>> watchers_;  // guarded by mu_
  mutable uint64_t last_token_ = 0;                              // guarded by mu_
};

}  // namespace freshet
