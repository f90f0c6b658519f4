#include "storage/blocking_store.h"

#include <future>
#include <memory>
#include <utility>

namespace freshet {
namespace {

// Starts `op` with a callback that fulfils a promise, and waits for it.
template <typename T, typename Op>
Result<T> Wait(Op op) {
  // The promise is shared: a store may still be inside the callback
  // (after set_value) when the waiter wakes and returns.
  auto promise = std::make_shared<std::promise<Result<T>>>();
  std::future<Result<T>> future = promise->get_future();
  op([promise](Result<T> r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace

Result<ListPage> ListPageSync(ObjectStore& store, ListRequest req) {
  return Wait<ListPage>([&](StoreCallback<ListPage> cb) { store.List(std::move(req), std::move(cb)); });
}

Result<std::vector<ObjectInfo>> ListAllSync(ObjectStore& store, std::string prefix, std::string start_after) {
  std::vector<ObjectInfo> all;
  ListRequest req;
  req.prefix = std::move(prefix);
  req.start_after = std::move(start_after);
  for (;;) {
    FRESHET_ASSIGN_OR_RETURN(ListPage page, ListPageSync(store, req));
    for (ObjectInfo& info : page.objects) all.push_back(std::move(info));
    if (page.next_continuation_token.empty()) break;
    req.continuation_token = std::move(page.next_continuation_token);
  }
  return all;
}

Result<GetResult> GetSync(ObjectStore& store, GetRequest req) {
  return Wait<GetResult>([&](StoreCallback<GetResult> cb) { store.Get(std::move(req), std::move(cb)); });
}

Result<GetResult> GetSync(ObjectStore& store, std::string key) {
  GetRequest req;
  req.key = std::move(key);
  return GetSync(store, std::move(req));
}

Result<ObjectInfo> PutSync(ObjectStore& store, PutRequest req) {
  return Wait<ObjectInfo>([&](StoreCallback<ObjectInfo> cb) { store.Put(std::move(req), std::move(cb)); });
}

Result<ObjectInfo> PutSync(ObjectStore& store, std::string key, std::string body, bool if_none_match) {
  PutRequest req;
  req.key = std::move(key);
  req.body = std::move(body);
  req.if_none_match = if_none_match;
  return PutSync(store, std::move(req));
}

Result<ObjectInfo> HeadSync(ObjectStore& store, std::string key) {
  return Wait<ObjectInfo>([&](StoreCallback<ObjectInfo> cb) { store.Head(std::move(key), std::move(cb)); });
}

Status DeleteSync(ObjectStore& store, std::string key) {
  Result<Unit> r = Wait<Unit>([&](StoreCallback<Unit> cb) { store.Delete(std::move(key), std::move(cb)); });
  return r.status();
}

}  // namespace freshet
