// An in-memory ObjectStore with the same semantics as LocalStore and S3
// (key rules, ranges, If-None-Match, ListObjectsV2 emulation), for tests
// and for `mem://name` URIs.
//
// Every call completes inline, on the caller's thread, before it returns;
// callbacks run outside the store's lock, so they may call the store again.
// Thread-safe.
//
// Unlike LocalStore, a key may coexist with keys under it ("a" and "a/b"),
// as in S3.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace freshet {

class MemoryStore final : public ObjectStore {
 public:
  // Calls per operation since creation or ResetCallCounts(), counted on
  // entry (invalid requests included).
  struct CallCounts {
    uint64_t list = 0;
    uint64_t get = 0;
    uint64_t head = 0;
    uint64_t put = 0;
    uint64_t del = 0;
    friend bool operator==(const CallCounts&, const CallCounts&) = default;
  };

  // A fresh, private store.
  MemoryStore();

  // A handle on the process-wide store called `name`, created empty on
  // first use. All handles with the same name share contents and call
  // counts; the contents live until DropNamed(name) and the last handle
  // are gone.
  static std::unique_ptr<MemoryStore> OpenNamed(const std::string& name);
  // Forgets the named store (existing handles keep their contents).
  static void DropNamed(const std::string& name);

  void List(ListRequest req, StoreCallback<ListPage> done) override;
  void Get(GetRequest req, StoreCallback<GetResult> done) override;
  void Head(std::string key, StoreCallback<ObjectInfo> done) override;
  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override;
  void Delete(std::string key, StoreCallback<Unit> done) override;
  // "mem://<name>"; private stores get a unique "mem://anonymous-<n>".
  std::string Describe() const override;

  // Test hooks.
  CallCounts call_counts() const;
  void ResetCallCounts();
  // All keys, ascending.
  std::vector<std::string> Keys() const;

 private:
  struct Object {
    std::string body;
    std::string etag;
  };
  struct State {
    std::string name;
    mutable std::mutex mu;
    // Guarded by mu:
    std::map<std::string, Object, std::less<>> objects;
    CallCounts counts;
  };

  explicit MemoryStore(std::shared_ptr<State> state) : state_(std::move(state)) {}

  Result<ListPage> DoList(const ListRequest& req) const;
  Result<GetResult> DoGet(const GetRequest& req) const;
  Result<ObjectInfo> DoHead(const std::string& key) const;
  Result<ObjectInfo> DoPut(PutRequest req);
  Status DoDelete(const std::string& key);

  std::shared_ptr<State> state_;
};

}  // namespace freshet
