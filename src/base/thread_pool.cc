#include "base/thread_pool.h"

#include <algorithm>
#include <memory>

#include <pthread.h>

#include <cassert>
#include <utility>

namespace freshet {

ThreadPool::ThreadPool(std::string name, size_t threads, size_t queue_limit)
    : name_(std::move(name)), thread_count_(threads), queue_limit_(queue_limit) {
  assert(threads >= 1 && queue_limit >= 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
    // Names show up in top/gdb/perf; Linux caps them at 15 bytes.
    std::string thread_name = name_ + "-" + std::to_string(i);
    if (thread_name.size() > 15) thread_name.resize(15);
    pthread_setname_np(workers_.back().native_handle(), thread_name.c_str());
  }
}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || queue_.size() >= queue_limit_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  not_empty_.notify_one();
  return true;
}

bool ThreadPool::Submit(std::function<void()> task) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [this] { return closed_ || queue_.size() < queue_limit_; });
    if (closed_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  not_empty_.notify_one();
  return true;
}

void ThreadPool::Shutdown() {
  std::lock_guard<std::mutex> join_lock(join_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();  // blocked Submit() callers give up
  for (std::thread& t : workers_) {
    assert(t.get_id() != std::this_thread::get_id() && "ThreadPool::Shutdown from its own worker");
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

size_t ThreadPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

uint64_t ThreadPool::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      // Drain before exiting: every accepted task runs exactly once.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    not_full_.notify_one();
    task();
    // Destroy captures before taking the next task, so a task's resources
    // (and callbacks' captured state) are released promptly.
    task = nullptr;
  }
}

namespace {

// Shared with helper tasks, which may start after ParallelFor returned:
// they only touch `fn` once they claimed an index, and no index is left
// to claim by then.
struct ParallelState {
  std::mutex mu;
  std::condition_variable all_done;
  size_t next = 0;      // guarded by mu: the next index to claim
  size_t finished = 0;  // guarded by mu
  size_t n = 0;
  const std::function<void(size_t)>* fn = nullptr;
};

void ClaimAndRun(const std::shared_ptr<ParallelState>& st) {
  for (;;) {
    size_t i;
    {
      std::lock_guard lock(st->mu);
      if (st->next >= st->n) return;
      i = st->next++;
    }
    (*st->fn)(i);
    std::lock_guard lock(st->mu);
    if (++st->finished == st->n) st->all_done.notify_all();
  }
}

}  // namespace

void ParallelFor(ThreadPool* pool, size_t n, size_t max_parallel, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (pool == nullptr || max_parallel <= 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto st = std::make_shared<ParallelState>();
  st->n = n;
  st->fn = &fn;
  const size_t helpers = std::min({max_parallel, n, pool->thread_count() + 1}) - 1;
  for (size_t h = 0; h < helpers; ++h) {
    if (!pool->TrySubmit([st] { ClaimAndRun(st); })) break;  // the caller does the rest
  }
  ClaimAndRun(st);
  std::unique_lock lock(st->mu);
  st->all_done.wait(lock, [&] { return st->finished == st->n; });
}

void RunConcurrently(ThreadPool* pool, const std::vector<std::function<void()>>& tasks) {
  std::function<void(size_t)> run = [&tasks](size_t i) { tasks[i](); };
  ParallelFor(pool, tasks.size(), tasks.size(), run);
}

}  // namespace freshet
