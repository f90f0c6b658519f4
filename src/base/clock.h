// The clock behind every "now" in freshet, so tests drive time by hand.
#pragma once

#include <atomic>

#include "freshet/time.h"

namespace freshet {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock UTC now. Thread-safe.
  virtual TimePoint Now() const = 0;
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
  void Set(TimePoint t) { now_ms_.store(ToUnixMillis(t)); }
  void Advance(std::chrono::milliseconds d) { now_ms_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace freshet
