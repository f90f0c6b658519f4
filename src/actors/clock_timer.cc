#include "actors/clock_timer.h"

#include <algorithm>
#include <optional>

namespace freshet {

// Shared with the steady timer's handlers and the clock's watcher, which
// may outlive the ClockTimer by a moment (they hold it, never the timer).
struct ClockTimer::State : std::enable_shared_from_this<ClockTimer::State> {
  State(Strand s, const Clock* c) : strand(std::move(s)), timer(strand), clock(c) {}

  // Fires when the clock has reached the deadline, else waits for the
  // distance. Runs on the strand.
  void Check() {
    if (!deadline) return;
    const TimePoint now = clock->Now();
    if (now >= *deadline) {
      // Posted, never called from inside Arm(): the caller's state is
      // consistent before `fire` runs.
      asio::post(strand, [self = shared_from_this(), gen = generation] {
        if (self->generation != gen || !self->deadline) return;
        self->deadline.reset();
        std::function<void()> f = std::move(self->fire);
        self->fire = nullptr;
        f();
      });
      return;
    }
    // A day at most: a wall clock that jumps is looked at again anyway.
    std::chrono::milliseconds wait = std::min<std::chrono::milliseconds>(*deadline - now, std::chrono::hours(24));
    timer.expires_after(wait);
    timer.async_wait([self = shared_from_this(), gen = generation](const boost::system::error_code&) {
      // Expired, or cancelled by Poke (the clock moved) or by a re-Arm:
      // only a re-Arm (a new generation) ends this wait for good.
      if (self->generation == gen) self->Check();
    });
  }

  Strand strand;
  asio::steady_timer timer;
  const Clock* clock;
  std::optional<TimePoint> deadline;
  std::function<void()> fire;
  uint64_t generation = 0;
};

ClockTimer::ClockTimer(Strand strand, const Clock* clock)
    : state_(std::make_shared<State>(std::move(strand), clock)) {
  std::weak_ptr<State> weak = state_;
  watch_token_ = clock->Watch([weak] {
    if (auto s = weak.lock()) {
      asio::post(s->strand, [s] {
        if (s->deadline) s->timer.cancel();  // its handler looks again (same generation)
      });
    }
  });
}

ClockTimer::~ClockTimer() {
  state_->clock->Unwatch(watch_token_);
  // Ends a pending wait without firing: the handler sees a new generation.
  asio::post(state_->strand, [s = state_] {
    ++s->generation;
    s->deadline.reset();
    s->fire = nullptr;
    s->timer.cancel();
  });
}

void ClockTimer::Arm(TimePoint deadline, std::function<void()> fire) {
  State& s = *state_;
  ++s.generation;
  s.timer.cancel();
  s.deadline = deadline;
  s.fire = std::move(fire);
  s.Check();
}

void ClockTimer::Cancel() {
  State& s = *state_;
  ++s.generation;
  s.deadline.reset();
  s.fire = nullptr;
  s.timer.cancel();
}

}  // namespace freshet
