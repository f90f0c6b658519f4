// The asynchronous object-store interface every backend implements
// (LocalStore, MemoryStore, later S3Store and fault-injecting decorators).
//
// Contract:
// - Every call completes exactly once by invoking its callback with a
//   Result. The callback may run on any thread (a backend's own I/O thread,
//   or inline before the call returns); callers that own a strand must post
//   the result back to it. Callbacks must not block.
// - Keys are '/'-separated UTF-8 strings without a leading '/'. Backends
//   reject keys that are empty, absolute, or contain "." / ".." segments
//   with kInvalidArgument.
// - Errors use freshet::Status codes with their documented retry meaning
//   (kNotFound for a missing key, kAlreadyExists for a lost If-None-Match,
//   kUnavailable / kDeadlineExceeded for transient failures).
// - The interface has no Asio in it on purpose: actors adapt it to their
//   strands; CLI tools use the blocking helpers in blocking_store.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/spool_file.h"
#include "freshet/status.h"

namespace freshet {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // opaque; LocalStore/MemoryStore: lowercase hex MD5 of the body, like S3
  friend bool operator==(const ObjectInfo&, const ObjectInfo&) = default;
};

struct ListRequest {
  std::string prefix;              // only keys starting with this
  std::string start_after;         // only keys strictly greater (bytewise) than this
  std::string delimiter;           // "" = flat; "/" = roll up into common_prefixes
  std::string continuation_token;  // from a previous page; "" = first page
  uint32_t max_keys = 1000;        // page size (objects + common prefixes), 1..1000
};

struct ListPage {
  std::vector<ObjectInfo> objects;          // ascending by key (bytewise)
  std::vector<std::string> common_prefixes; // ascending, each ends with delimiter
  std::string next_continuation_token;      // "" = this was the last page
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes to read; a range past the end is truncated
};

struct GetRequest {
  std::string key;
  std::optional<ByteRange> range;  // nullopt = whole object
};

struct GetResult {
  ObjectInfo info;   // size is the whole object's size, even for a range
  std::string body;  // the requested bytes
};

struct PutRequest {
  std::string key;
  std::string body;
  bool if_none_match = false;  // create only; kAlreadyExists if the key exists
  // Replace only the version with this ETag (compare-and-swap): when the
  // object has another ETag or is absent, kFailedPrecondition and nothing
  // is written. Atomic against every other conditional Put of the key,
  // also from other processes (S3: If-Match; local: a lock file). Not with
  // if_none_match.
  std::optional<std::string> if_match;
  // The body is this file's content instead of `body` (which is then
  // empty): a big output file spooled to local disk as it was built
  // (base/spool_file.h), so it is never held in memory whole. The local
  // store copies it in the kernel; S3 reads one part at a time.
  std::shared_ptr<const SpoolFile> body_file;
  uint64_t body_size() const { return body_file ? body_file->size() : body.size(); }
};

struct Unit {};

template <typename T>
using StoreCallback = std::function<void(Result<T>)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual void List(ListRequest req, StoreCallback<ListPage> done) = 0;
  virtual void Get(GetRequest req, StoreCallback<GetResult> done) = 0;
  virtual void Head(std::string key, StoreCallback<ObjectInfo> done) = 0;
  // Atomic: readers see the old object or the new one, never a part.
  virtual void Put(PutRequest req, StoreCallback<ObjectInfo> done) = 0;
  // Deleting a missing key succeeds (as in S3).
  virtual void Delete(std::string key, StoreCallback<Unit> done) = 0;

  // A printable name for logs and errors ("local:///srv/data",
  // "s3://bucket/prefix"); never contains secrets.
  virtual std::string Describe() const = 0;

  // Removes what writes cut short by a crash left behind (the local
  // store's temp files; nothing for stores without such leftovers) and
  // returns how many. Blocking. Only for the sink's one writer (it holds
  // the writer lease), at start-up: any leftover then is another run's.
  virtual Result<uint64_t> RemoveAbandonedWrites() { return uint64_t{0}; }

  // A filesystem path the object `key` can be read from directly with
  // positional reads, for stores whose objects are files (LocalStore);
  // nullopt otherwise and for an invalid key. Objects are replaced by
  // rename, so a file opened from this path keeps the bytes it had.
  // Decorators that must see every read (fault injection, request
  // counting) keep this default.
  virtual std::optional<std::string> LocalPath(const std::string& key) const {
    (void)key;
    return std::nullopt;
  }
};

}  // namespace freshet
