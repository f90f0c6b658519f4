// A bounded, typed mailbox: the only way into an actor.
//
// Each message kind names its overflow policy (a static `kOverflow` member
// of the message struct), so what happens when an actor falls behind is
// decided where the message is defined, not by each sender:
//   kMustDeliver  always queued, never counted against the limit: commit
//                 acknowledgments, batch ends, stop. Losing one would wedge
//                 the pipeline, and their number is bounded by design (one
//                 batch in flight).
//   kCoalesce     if a message of the same kind is already queued, the new
//                 one merges into it (dropped and counted): ticks, timer
//                 wake-ups, "list now".
//   kRefuse       refused and counted once `limit` messages are queued:
//                 requests (heartbeats, probes, work orders). The sender
//                 sees kRefused and applies its own remedy.
//
// Post() is thread-safe and never blocks. Receive() is awaited by the
// owning actor's receive loop, on the mailbox's strand; messages come out
// in post order. The wake-up is Asio's experimental concurrent channel,
// used as a doorbell only (capacity 1), wrapped here so it can be swapped.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/experimental/concurrent_channel.hpp>

#include "actors/io.h"

namespace freshet {

enum class Overflow { kMustDeliver, kCoalesce, kRefuse };

enum class [[nodiscard]] Delivery {
  kQueued,
  kCoalesced,  // merged into a queued message of the same kind
  kRefused,    // mailbox full (kRefuse messages only)
  kClosed,     // the actor has stopped
};

inline bool Delivered(Delivery d) { return d == Delivery::kQueued || d == Delivery::kCoalesced; }

// For kMustDeliver messages, whose only other outcome is kClosed: the
// receiver has stopped (shutdown) and nobody waits for the message.
inline void MustDeliver(Delivery d) { (void)d; }

namespace mailbox_detail {
template <typename T>
Overflow OverflowOf(const T&) {
  return T::kOverflow;
}
template <typename... Ts>
Overflow OverflowOf(const std::variant<Ts...>& v) {
  return std::visit([](const auto& m) { return OverflowOf(m); }, v);
}
template <typename T>
size_t KindOf(const T&) {
  return 0;
}
template <typename... Ts>
size_t KindOf(const std::variant<Ts...>& v) {
  return v.index();
}
}  // namespace mailbox_detail

template <typename Msg>
class Mailbox {
 public:
  // `limit`: how many kRefuse messages may wait; > 0.
  Mailbox(asio::io_context& io, std::string name, size_t limit)
      : strand_(asio::make_strand(io)), bell_(strand_, 1), name_(std::move(name)), limit_(limit) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Thread-safe; never blocks.
  Delivery Post(Msg msg) {
    const Overflow policy = mailbox_detail::OverflowOf(msg);
    {
      std::lock_guard lock(mu_);
      if (closed_) return Delivery::kClosed;
      if (policy == Overflow::kCoalesce) {
        const size_t kind = mailbox_detail::KindOf(msg);
        for (const Msg& queued : queue_) {
          if (mailbox_detail::KindOf(queued) == kind) {
            coalesced_.fetch_add(1);
            return Delivery::kCoalesced;
          }
        }
      } else if (policy == Overflow::kRefuse && queue_.size() >= limit_) {
        refused_.fetch_add(1);
        return Delivery::kRefused;
      }
      queue_.push_back(std::move(msg));
    }
    bell_.try_send(boost::system::error_code());  // false: already rung, the receiver will look
    return Delivery::kQueued;
  }

  // The next message; nullopt once the mailbox is closed and drained.
  // REQUIRES: one receiver, running on strand().
  Awaitable<std::optional<Msg>> Receive() {
    for (;;) {
      if (std::optional<Msg> m = TryReceive()) co_return m;
      {
        std::lock_guard lock(mu_);
        if (closed_) co_return std::nullopt;
      }
      // A Post between TryReceive and here has rung the bell: no lost wake-up.
      auto [ec] = co_await bell_.async_receive(asio::as_tuple(asio::use_awaitable));
      (void)ec;  // closed: the loop sees closed_ (after draining what is queued)
    }
  }

  // Without waiting, for tests and for draining; thread-safe.
  std::optional<Msg> TryReceive() {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return std::nullopt;
    Msg m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }

  // Refuses every later Post; the receiver drains what is queued, then
  // gets nullopt. Thread-safe.
  void Close() {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    bell_.close();  // the concurrent channel is thread-safe
  }

  Strand& strand() { return strand_; }
  const std::string& name() const { return name_; }
  uint64_t refused() const { return refused_.load(); }
  uint64_t coalesced() const { return coalesced_.load(); }
  size_t queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  using Bell = asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  Strand strand_;
  Bell bell_;
  std::string name_;
  size_t limit_;
  mutable std::mutex mu_;
  std::deque<Msg> queue_;  // guarded by mu_
  bool closed_ = false;    // guarded by mu_
  std::atomic<uint64_t> refused_{0}, coalesced_{0};
};

}  // namespace freshet
