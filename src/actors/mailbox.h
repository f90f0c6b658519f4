// A bounded mailbox: the only way into an actor.
//
// Each actor owns one strand; Post() queues a handler on it unless the
// mailbox already holds `limit` undelivered messages, in which case the
// message is refused and counted (the caller applies its overflow policy:
// ticks coalesce, everything else is refused loudly). Handlers run one at a
// time in post order, so an actor's state needs no locks as long as it is
// touched only from handlers posted here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "actors/io.h"

namespace freshet {

class Mailbox {
 public:
  Mailbox(asio::io_context& io, std::string name, uint32_t limit)
      : strand_(asio::make_strand(io)), name_(std::move(name)), limit_(limit) {}

  // Queues `fn` to run on the strand. Returns false (and counts a refusal)
  // when the mailbox is full. Thread-safe.
  template <typename Fn>
  bool Post(Fn&& fn) {
    if (queued_.fetch_add(1) >= limit_) {
      queued_.fetch_sub(1);
      refused_.fetch_add(1);
      return false;
    }
    asio::post(strand_, [this, f = std::forward<Fn>(fn)]() mutable {
      queued_.fetch_sub(1);
      f();
    });
    return true;
  }

  Strand& strand() { return strand_; }
  const std::string& name() const { return name_; }
  uint64_t refused() const { return refused_.load(); }
  uint32_t queued() const { return queued_.load(); }

 private:
  Strand strand_;
  std::string name_;
  uint32_t limit_;
  std::atomic<uint32_t> queued_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace freshet
