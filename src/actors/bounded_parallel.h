// Runs n asynchronous operations with at most `parallelism` in flight: the
// fetch fan-out of a batch, the segment uploads of a commit, retention
// deletes. The first failure stops new launches; `done` runs once, after
// every launched operation has completed, with the first error (or OK).
//
// Thread-safety: operations may complete on any thread; `done` runs on the
// thread that completed the last one. Asio-free on purpose.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

#include "freshet/status.h"

namespace freshet {

class BoundedParallel : public std::enable_shared_from_this<BoundedParallel> {
 public:
  using Op = std::function<void(size_t index, std::function<void(Status)> complete)>;
  using Done = std::function<void(Status)>;

  static void Run(size_t n, size_t parallelism, Op op, Done done) {
    auto self = std::shared_ptr<BoundedParallel>(new BoundedParallel(n, parallelism, std::move(op), std::move(done)));
    self->Pump();
  }

 private:
  BoundedParallel(size_t n, size_t parallelism, Op op, Done done)
      : n_(n), parallelism_(parallelism ? parallelism : 1), op_(std::move(op)), done_(std::move(done)) {}

  // Trampolined: an operation that completes inline (MemoryStore) re-enters
  // Pump, which then only flags `repump_` so the running loop continues,
  // instead of recursing once per item.
  void Pump() {
    std::unique_lock lock(mu_);
    if (pumping_) {
      repump_ = true;
      return;
    }
    pumping_ = true;
    for (;;) {
      if (next_ < n_ && first_error_.ok() && in_flight_ < parallelism_) {
        size_t index = next_++;
        ++in_flight_;
        lock.unlock();
        op_(index, [self = shared_from_this()](Status st) {
          {
            std::lock_guard inner(self->mu_);
            --self->in_flight_;
            if (!st.ok() && self->first_error_.ok()) self->first_error_ = std::move(st);
          }
          self->Pump();
        });
        lock.lock();
        continue;
      }
      if (repump_) {
        repump_ = false;
        continue;
      }
      pumping_ = false;
      bool finish = in_flight_ == 0 && !finished_ && (next_ >= n_ || !first_error_.ok());
      if (finish) finished_ = true;
      Status result = first_error_;
      lock.unlock();
      if (finish) done_(result);
      return;
    }
  }

  const size_t n_, parallelism_;
  Op op_;
  Done done_;
  std::mutex mu_;
  size_t next_ = 0, in_flight_ = 0;
  bool finished_ = false, pumping_ = false, repump_ = false;
  Status first_error_;
};

}  // namespace freshet
