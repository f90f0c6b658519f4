// Runs CPU-heavy work on the bounded compute pool and resumes the awaiting
// coroutine on its own strand with the result, so no io_context handler
// ever blocks on parsing, indexing or compression.
//
// Overflow: the pool refuses when its queue is full (TrySubmit); the await
// then yields kUnavailable and the batch fails and is retried on the next
// trigger. The pipeline sizes the queue so that one batch never hits it.
#pragma once

#include <functional>
#include <memory>

#include "actors/store_await.h"
#include "base/thread_pool.h"

namespace freshet {

template <typename T>
struct ComputeStart {
  ThreadPool* pool;
  std::function<Result<T>()> work;
  void operator()(StoreCallback<T> done) {
    auto shared_done = std::make_shared<StoreCallback<T>>(std::move(done));
    bool accepted = pool->TrySubmit([work = std::move(work), shared_done]() mutable { (*shared_done)(work()); });
    if (!accepted) (*shared_done)(Status::Unavailable("compute pool \"" + pool->name() + "\" is full"));
  }
};

// REQUIRES: `pool` outlives the await; `work` owns or outlives what it reads.
template <typename T>
Awaitable<Result<T>> AwaitCompute(ThreadPool* pool, std::function<Result<T>()> work) {
  ComputeStart<T> start{pool, std::move(work)};
  co_return co_await AwaitStore<T>(std::move(start));
}

}  // namespace freshet
