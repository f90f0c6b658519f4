// Adapts the callback-based ObjectStore to C++20 coroutines: the callback
// (which may run on any thread) is posted back to the awaiting coroutine's
// executor, so the actor resumes on its own strand. Results are values
// (Result<T>), never exceptions.
#pragma once

#include <memory>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>

#include "actors/io.h"
#include "storage/object_store.h"

namespace freshet {

// `start` is invoked with a StoreCallback<T> and must hand it to exactly one
// store operation.
template <typename T, typename Start>
auto AwaitStore(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>, void(Result<T>)>(
      [](auto handler, Start start_op) {
        auto ex = asio::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start_op([h, ex](Result<T> r) mutable {
          asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      asio::use_awaitable, std::move(start));
}

// Named starters rather than lambdas: g++ 12 mishandles capturing lambdas
// inside a co_await expression.
struct ListStart {
  ObjectStore* store; ListRequest req;
  void operator()(StoreCallback<ListPage> cb) { store->List(std::move(req), std::move(cb)); }
};
struct GetStart {
  ObjectStore* store; GetRequest req;
  void operator()(StoreCallback<GetResult> cb) { store->Get(std::move(req), std::move(cb)); }
};
struct PutStart {
  ObjectStore* store; PutRequest req;
  void operator()(StoreCallback<ObjectInfo> cb) { store->Put(std::move(req), std::move(cb)); }
};
struct DeleteStart {
  ObjectStore* store; std::string key;
  void operator()(StoreCallback<Unit> cb) { store->Delete(std::move(key), std::move(cb)); }
};

// REQUIRES: `store` outlives the awaited operation.
inline Awaitable<Result<ListPage>> AwaitList(ObjectStore* store, ListRequest req) {
  ListStart start{store, std::move(req)};
  co_return co_await AwaitStore<ListPage>(std::move(start));
}
inline Awaitable<Result<GetResult>> AwaitGet(ObjectStore* store, GetRequest req) {
  GetStart start{store, std::move(req)};
  co_return co_await AwaitStore<GetResult>(std::move(start));
}
inline Awaitable<Result<ObjectInfo>> AwaitPut(ObjectStore* store, PutRequest req) {
  PutStart start{store, std::move(req)};
  co_return co_await AwaitStore<ObjectInfo>(std::move(start));
}
inline Awaitable<Result<Unit>> AwaitDelete(ObjectStore* store, std::string key) {
  DeleteStart start{store, std::move(key)};
  co_return co_await AwaitStore<Unit>(std::move(start));
}

}  // namespace freshet
