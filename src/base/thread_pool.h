// A fixed-size pool of worker threads with a bounded FIFO queue, for
// blocking work (file I/O, hashing, CPU-heavy builds) that must stay off the
// event loop.
//
// Overflow policies, chosen per call site:
// - TrySubmit: refuse. Returns false at once when the queue is full (or the
//   pool is shut down); the caller owns the refusal (fail the request with
//   kUnavailable, drop with a count, ...). For callers on an event loop,
//   which must never block.
// - Submit: block. Waits while the queue is full. Only for callers that may
//   block (CLI tools, tests, producer threads of their own).
// Refusals are counted (rejected()) so they can be exported as a metric.
//
// Tasks run in FIFO order of acceptance, each on one worker; with more than
// one worker, tasks run concurrently. A task must not throw (an escaping
// exception terminates the process, as with std::thread).
//
// Thread-safety: all methods may be called from any thread, except as noted
// under REQUIRES.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace freshet {

class ThreadPool {
 public:
  // Starts `threads` workers named "<name>-<i>" (truncated to the 15 bytes
  // Linux allows). REQUIRES: threads >= 1, queue_limit >= 1.
  // queue_limit bounds the tasks accepted but not yet started; running
  // tasks do not count against it.
  ThreadPool(std::string name, size_t threads, size_t queue_limit);

  // Shutdown(): runs every accepted task, then joins.
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Refuse policy: enqueues `task` and returns true, or returns false
  // without blocking if the queue is full or Shutdown() has begun (the task
  // is then destroyed unrun).
  bool TrySubmit(std::function<void()> task);

  // Block policy: waits while the queue is full, then enqueues `task`.
  // Returns false only if Shutdown() has begun (before or while waiting);
  // the task is then destroyed unrun.
  // REQUIRES: not called from one of this pool's workers (a worker waiting
  // for queue space it must itself free would deadlock).
  bool Submit(std::function<void()> task);

  // Stops accepting tasks, lets the workers finish everything already
  // accepted, and joins them. Idempotent. Tasks submitted by running tasks
  // during the drain are refused.
  // REQUIRES: not called from one of this pool's workers.
  void Shutdown();

  const std::string& name() const { return name_; }
  size_t thread_count() const { return thread_count_; }
  size_t queue_limit() const { return queue_limit_; }
  // Tasks accepted but not yet started.
  size_t queued() const;
  // TrySubmit/Submit calls refused so far (full or shut down).
  uint64_t rejected() const;

 private:
  void WorkerLoop();

  const std::string name_;
  const size_t thread_count_;
  const size_t queue_limit_;

  mutable std::mutex mu_;
  std::condition_variable not_empty_;  // workers wait here
  std::condition_variable not_full_;   // blocked Submit() callers wait here
  // Guarded by mu_:
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
  uint64_t rejected_ = 0;

  // Written only by the constructor and by Shutdown() (serialized through
  // join_mu_).
  std::mutex join_mu_;
  std::vector<std::thread> workers_;
};

// Runs fn(i) for every i in [0, n), on up to `max_parallel` threads: the
// calling thread and pool workers, each claiming the next index until none
// is left; returns once every fn(i) has returned. The caller always takes
// part and never waits for a task still queued, so it is safe from inside a
// pool task (a build that parallelises its own steps) and with a full
// queue: refused helpers just leave more indices to the caller. With
// `pool` == nullptr or max_parallel <= 1 everything runs on the caller.
// Helpers that start after the last index was claimed return at once.
// REQUIRES: fn(i) and fn(j) may run concurrently for i != j; fn does not
// throw.
void ParallelFor(ThreadPool* pool, size_t n, size_t max_parallel, const std::function<void(size_t)>& fn);

// Runs every task, concurrently where the pool has room (ParallelFor over
// the list), each on the caller or a pool worker.
void RunConcurrently(ThreadPool* pool, const std::vector<std::function<void()>>& tasks);

}  // namespace freshet
