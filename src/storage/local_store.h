// An ObjectStore over a local directory used as a bucket: key "a/b/c" is
// the file <root>/a/b/c. The embedded default store.
//
// - Operations run on an internal bounded ThreadPool and complete on one of
//   its threads. When the pool's queue is full the call is refused at once
//   (inline) with kUnavailable, which callers retry with backoff: the store
//   never blocks its caller.
// - Put is atomic and durable: the body goes to a temp file in the key's
//   directory (".freshet-tmp-*", never listed), is fsync'ed and renamed
//   over the key, and the directory is fsync'ed (and so are the parents of
//   any directories created for the key). If-None-Match uses an atomic
//   no-replace rename (or link()), so exactly one racing creator wins.
// - List emulates S3 ListObjectsV2 (see list_emulation.h) with a pruned,
//   ordered directory walk: directories wholly before the resume point or
//   outside the prefix are never opened, and the walk stops as soon as the
//   page is full. Empty directories and non-regular files are not listed.
// - ETags are validators, not content hashes: "<inode>-<size>-<mtime ns>"
//   in hex, read from one stat of the file. Listing never reads a file,
//   a restart sees the same ETags as the run before it, and any rewrite by
//   this store (always a new inode) or by another program (a new mtime)
//   gives a new ETag. Like S3's, an ETag is only compared for equality;
//   unlike S3's it is not the MD5 of the body (nothing here needs that:
//   index files carry their own checksums). Copying the directory makes
//   new ETags, so a daemon sees the copy's objects as rewritten. Limit: a
//   program rewriting a file in place with the same size within one
//   filesystem timestamp tick (a few ms) keeps its ETag.
// - Delete removes the file and then every parent directory left empty,
//   up to (not including) the root.
//
// Limitation (filesystem, not S3): a key cannot coexist with keys under it
// ("a" and "a/b"); the second Put fails with kFailedPrecondition.
// Symlinks under the root are followed.
//
// Thread-safety: all methods may be called from any thread.
// REQUIRES: the store is not destroyed from one of its own callbacks (the
// destructor waits for in-flight operations).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/thread_pool.h"
#include "storage/object_store.h"

struct stat;

namespace freshet {

class LocalStore final : public ObjectStore {
 public:
  struct Options {
    // Worker threads doing file I/O. Default: 4.
    size_t io_threads = 4;
    // Operations accepted but not yet started before new ones are refused
    // with kUnavailable. Default: 4096.
    size_t queue_limit = 4096;
    // Create the root directory (and its parents) if missing. Default: false.
    bool create_if_missing = false;
    // fsync files and directories on Put/Delete. false keeps atomicity but
    // not durability across power loss (tests, benchmarks, `gen`).
    // Default: true.
    bool sync = true;
  };

  // Counters for tests and metrics.
  struct Stats {
    uint64_t dirs_opened = 0;  // directories read by List
  };

  // Opens the store rooted at `root` (made absolute and canonical).
  // kNotFound if it does not exist (and !create_if_missing),
  // kInvalidArgument if it is not a directory.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& root, Options options);
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& root) { return Open(root, Options()); }

  // Waits for every accepted operation to complete (callbacks included).
  ~LocalStore() override;

  void List(ListRequest req, StoreCallback<ListPage> done) override;
  void Get(GetRequest req, StoreCallback<GetResult> done) override;
  void Head(std::string key, StoreCallback<ObjectInfo> done) override;
  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override;
  void Delete(std::string key, StoreCallback<Unit> done) override;
  // "local://<root>", e.g. "local:///srv/data".
  std::string Describe() const override;
  // Temp files of puts a crash cut short (".freshet-tmp-<nonce>-<n>", in
  // any directory), other than this store's own; lock files stay.
  Result<uint64_t> RemoveAbandonedWrites() override;
  std::optional<std::string> LocalPath(const std::string& key) const override;

  // The canonical absolute root directory, without a trailing '/'.
  const std::string& root() const { return root_; }
  Stats stats() const;

 private:
  class ListWalk;

  LocalStore(std::string root, Options options);

  // Runs work() on the pool and passes its result to done(); refuses with
  // kUnavailable when the queue is full.
  template <typename T>
  void Schedule(const char* op, StoreCallback<T> done, std::function<Result<T>()> work);

  Result<ListPage> DoList(const ListRequest& req);
  Result<GetResult> DoGet(const GetRequest& req);
  Result<ObjectInfo> DoHead(const std::string& key);
  Result<ObjectInfo> DoPut(const PutRequest& req);
  Status DoDelete(const std::string& key);

  std::string PathOf(std::string_view key) const;
  // Creates the missing directories between the root and `dir_key` (a
  // key's parent, "" for the root), fsync'ing the parent of each one made.
  Status EnsureDirs(std::string_view key, std::string_view dir_key);

  const std::string root_;
  const Options options_;

  std::atomic<uint64_t> dirs_opened_{0};
  std::atomic<uint64_t> temp_counter_{0};
  const uint64_t temp_nonce_;

  // Declared last, so it is destroyed first; the destructor also shuts it
  // down explicitly. Tasks capture `this`: safe because no task outlives
  // the pool's drain in ~LocalStore.
  ThreadPool pool_;
};

}  // namespace freshet
