#include "storage/local_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "base/posix_error.h"
#include "storage/list_emulation.h"
#include "storage/object_key.h"

namespace freshet {
namespace {

// O_NONBLOCK only matters for what is not a regular file: opening a FIFO
// that sits where a key is expected must not hang an I/O thread.
int OpenForRead(const char* path, int extra_flags = 0) { return OpenFile(path, O_RDONLY | O_NONBLOCK | extra_flags); }

// The ETag of a regular file with status `st` (see the header): inode,
// size and modification time, in hex. Not the ctime: renaming a file into
// place changes it without changing the content.
std::string ValidatorEtag(const struct stat& st) {
  char buf[3 * 17];
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  const int n = std::snprintf(buf, sizeof buf, "%" PRIx64 "-%" PRIx64 "-%" PRIx64, static_cast<uint64_t>(st.st_ino),
                              static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(mtime_ns));
  return std::string(buf, static_cast<size_t>(n));
}

// Reads up to `len` bytes at `offset`; stops early at end of file.
Result<std::string> ReadAt(int fd, uint64_t offset, uint64_t len, const std::string& path) {
  std::string out(len, '\0');
  uint64_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, out.data() + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read '" + path + "'", errno);
    }
    if (n == 0) break;  // truncated underneath us; return what exists
    got += static_cast<uint64_t>(n);
  }
  out.resize(got);
  return out;
}

std::string Parent(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(key.substr(0, slash));
}

std::string ConflictMessage(std::string_view key, std::string_view detail) {
  return "local store cannot hold key '" + std::string(key) + "': " + std::string(detail) +
         " (a key and keys under it cannot coexist on a filesystem)";
}

// A directory entry's name must be a valid key segment to be listed; other
// names (temp files, invalid UTF-8, ...) are not objects.
bool ListableName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  if (name.starts_with(kReservedSegmentPrefix)) return false;
  return IsValidUtf8(name);
}

int CompareBytes(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);  // memcmp compares as unsigned char
  if (c != 0) return c;
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

}  // namespace

// ---------------------------------------------------------------------------
// Open / lifecycle

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root, Options options) {
  if (root.empty()) return Status::InvalidArgument("local store: empty root path");
  if (options.io_threads == 0 || options.queue_limit == 0) {
    return Status::InvalidArgument("local store: io_threads and queue_limit must be >= 1");
  }
  if (options.create_if_missing) {
    // mkdir -p; EEXIST is fine (checked as a directory below).
    for (size_t pos = 1; pos <= root.size(); ++pos) {
      if (pos != root.size() && root[pos] != '/') continue;
      std::string dir = root.substr(0, pos);
      if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
        return PosixError("local store: cannot create root '" + root + "' at '" + dir + "'", errno);
      }
    }
  }
  char* real = ::realpath(root.c_str(), nullptr);
  if (real == nullptr) return PosixError("local store: root '" + root + "'", errno);
  std::string canonical(real);
  ::free(real);
  struct stat st;
  if (::stat(canonical.c_str(), &st) != 0) return PosixError("local store: root '" + canonical + "'", errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("local store: root '" + canonical + "' is not a directory");
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(canonical), options));
}

LocalStore::LocalStore(std::string root, Options options)
    : root_(root == "/" ? std::string() : std::move(root)),  // PathOf adds the '/'
      options_(options),
      temp_nonce_(std::random_device{}()),
      pool_("local-store", options.io_threads, options.queue_limit) {}

LocalStore::~LocalStore() {
  // Must run before the other members die: queued tasks use them.
  pool_.Shutdown();
}

namespace {

// Unlinks the abandoned temp files under `dir`, recursively.
Status SweepTemps(const std::string& dir, const std::string& own_prefix, uint64_t* removed, int depth) {
  if (depth > 64) return Status::Ok();  // deeper than any key can be
  DIR* d = ::opendir(dir.empty() ? "/" : dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return PosixError("open directory '" + dir + "'", errno);
  }
  std::vector<std::string> subdirs;
  Status st;
  while (struct dirent* de = ::readdir(d)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    struct stat sb;
    if (::fstatat(::dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      subdirs.emplace_back(name);
    } else if (S_ISREG(sb.st_mode) && name.starts_with(kReservedSegmentPrefix) &&
               !name.substr(kReservedSegmentPrefix.size()).starts_with("lock-") && !name.starts_with(own_prefix)) {
      if (::unlinkat(::dirfd(d), de->d_name, 0) == 0) ++*removed;
      else if (errno != ENOENT) st = PosixError("remove '" + dir + "/" + std::string(name) + "'", errno);
    }
  }
  ::closedir(d);
  for (const std::string& sub : subdirs) {
    Status sub_st = SweepTemps(dir + "/" + sub, own_prefix, removed, depth + 1);
    if (st.ok()) st = sub_st;
  }
  return st;
}

}  // namespace

Result<uint64_t> LocalStore::RemoveAbandonedWrites() {
  uint64_t removed = 0;
  const std::string own = std::string(kReservedSegmentPrefix) + std::to_string(temp_nonce_) + "-";
  Status st = SweepTemps(root_, own, &removed, 0);
  if (!st.ok()) return st.WithContext("local store " + Describe() + ": removing abandoned temp files");
  return removed;
}

std::string LocalStore::Describe() const { return "local://" + (root_.empty() ? std::string("/") : root_); }

LocalStore::Stats LocalStore::stats() const { return Stats{dirs_opened_.load()}; }

std::optional<std::string> LocalStore::LocalPath(const std::string& key) const {
  if (!ValidateObjectKey(key).ok()) return std::nullopt;
  return PathOf(key);
}

std::string LocalStore::PathOf(std::string_view key) const {
  std::string path = root_;
  path += '/';
  path += key;
  return path;
}

template <typename T>
void LocalStore::Schedule(const char* op, StoreCallback<T> done, std::function<Result<T>()> work) {
  struct Job {
    std::function<Result<T>()> work;
    StoreCallback<T> done;
  };
  // Shared so the callback survives a refused TrySubmit (which destroys the
  // task it was given).
  auto job = std::make_shared<Job>(Job{std::move(work), std::move(done)});
  if (!pool_.TrySubmit([job] { job->done(job->work()); })) {
    job->done(Status::Unavailable(std::string("local store ") + op + ": I/O queue full (" +
                                  std::to_string(options_.queue_limit) + " pending) or store shutting down"));
  }
}

void LocalStore::List(ListRequest req, StoreCallback<ListPage> done) {
  Schedule<ListPage>("list", std::move(done), [this, req = std::move(req)] { return DoList(req); });
}

void LocalStore::Get(GetRequest req, StoreCallback<GetResult> done) {
  Schedule<GetResult>("get", std::move(done), [this, req = std::move(req)] { return DoGet(req); });
}

void LocalStore::Head(std::string key, StoreCallback<ObjectInfo> done) {
  Schedule<ObjectInfo>("head", std::move(done), [this, key = std::move(key)] { return DoHead(key); });
}

void LocalStore::Put(PutRequest req, StoreCallback<ObjectInfo> done) {
  Schedule<ObjectInfo>("put", std::move(done), [this, req = std::move(req)] { return DoPut(req); });
}

void LocalStore::Delete(std::string key, StoreCallback<Unit> done) {
  Schedule<Unit>("delete", std::move(done), [this, key = std::move(key)]() -> Result<Unit> {
    Status st = DoDelete(key);
    if (!st.ok()) return st;
    return Unit{};
  });
}

// ---------------------------------------------------------------------------
// Get / Head

Result<GetResult> LocalStore::DoGet(const GetRequest& req) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(req.key));
  std::string path = PathOf(req.key);
  Fd fd(OpenForRead(path.c_str()));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("no object '" + req.key + "' in " + Describe());
    return PosixError("get '" + req.key + "' from " + Describe(), err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return PosixError("stat '" + path + "'", errno);
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no object '" + req.key + "' in " + Describe());
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t offset = 0;
  uint64_t len = size;
  if (req.range) {
    offset = std::min(req.range->offset, size);
    len = std::min(req.range->length, size - offset);
  }
  GetResult out;
  FRESHET_ASSIGN_OR_RETURN(out.body, ReadAt(fd.get(), offset, len, path));
  out.info = ObjectInfo{req.key, size, ValidatorEtag(st)};
  return out;
}

Result<ObjectInfo> LocalStore::DoHead(const std::string& key) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("no object '" + key + "' in " + Describe());
    return PosixError("head '" + key + "' in " + Describe(), err);
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no object '" + key + "' in " + Describe());
  return ObjectInfo{key, static_cast<uint64_t>(st.st_size), ValidatorEtag(st)};
}

// ---------------------------------------------------------------------------
// Put

Status LocalStore::EnsureDirs(std::string_view key, std::string_view dir_key) {
  size_t pos = 0;
  while (pos < dir_key.size()) {
    size_t slash = dir_key.find('/', pos);
    size_t end = slash == std::string_view::npos ? dir_key.size() : slash;
    std::string dir = PathOf(dir_key.substr(0, end));
    if (::mkdir(dir.c_str(), 0777) == 0) {
      // The new directory entry is durable only once its parent is synced.
      if (options_.sync) {
        // (The parent of the first level is the root: pos == 0.)
        FRESHET_RETURN_IF_ERROR(SyncDirectory(pos == 0 ? root_ : PathOf(dir_key.substr(0, pos - 1))));
      }
    } else if (errno == EEXIST) {
      struct stat st;
      if (::stat(dir.c_str(), &st) != 0) return PosixError("stat '" + dir + "'", errno);
      if (!S_ISDIR(st.st_mode)) {
        return Status::FailedPrecondition(
            ConflictMessage(key, "object '" + std::string(dir_key.substr(0, end)) + "' exists"));
      }
    } else if (errno == ENOTDIR) {
      return Status::FailedPrecondition(ConflictMessage(key, "an object exists where a directory is needed"));
    } else {
      // ENOENT: a concurrent Delete removed a parent; the caller retries.
      return PosixError("create directory '" + dir + "'", errno);
    }
    pos = end + 1;
  }
  return Status::Ok();
}

Result<ObjectInfo> LocalStore::DoPut(const PutRequest& req) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(req.key));
  const std::string final_path = PathOf(req.key);
  const std::string dir_key = Parent(req.key);
  const std::string dir_path = dir_key.empty() ? root_ : PathOf(dir_key);
  TempFile temp;
  // A concurrent Delete may remove an empty parent between our mkdir and
  // our create; a few retries settle it.
  bool created = false;
  for (int attempt = 0; attempt < 8 && !created; ++attempt) {
    const std::string name = std::string(kReservedSegmentPrefix) + std::to_string(temp_nonce_) + "-" +
                             std::to_string(temp_counter_.fetch_add(1));
    int err = TempFile::Create(dir_path, name, 0666, &temp);
    if (err == 0) {
      created = true;
    } else if (err == ENOENT) {
      Status st = EnsureDirs(req.key, dir_key);
      if (!st.ok() && st.code() != StatusCode::kNotFound) return st.WithContext("put '" + req.key + "'");
    } else if (err == EEXIST) {
      continue;  // another process's temp file; new name
    } else if (err == ENOTDIR) {
      return Status::FailedPrecondition(ConflictMessage(req.key, "an object exists where a directory is needed"));
    } else {
      return PosixError("put '" + req.key + "': create temp file in '" + dir_path + "'", err);
    }
  }
  if (!created) return Status::Unavailable("put '" + req.key + "': directory kept vanishing under '" + dir_path + "'");

  if (req.body_file) {
    FRESHET_RETURN_IF_ERROR(CopySpool(*req.body_file, temp.fd(), temp.path()));
  } else {
    FRESHET_RETURN_IF_ERROR(temp.Write(req.body));
  }
  if (options_.sync) FRESHET_RETURN_IF_ERROR(temp.Sync());

  // If-Match: compare and rename under an exclusive lock on a hidden lock
  // file beside the key, so conditional Puts of the key take turns across
  // threads and processes (flock is per open file description). The lock
  // file stays: removing it would let two writers lock two different files.
  Fd lock;
  if (req.if_match) {
    const size_t slash = req.key.rfind('/');
    const std::string lock_path = dir_path + "/" + std::string(kReservedSegmentPrefix) + "lock-" +
                                  (slash == std::string::npos ? req.key : req.key.substr(slash + 1));
    lock = Fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
    if (!lock.valid()) return PosixError("put '" + req.key + "': open lock file '" + lock_path + "'", errno);
    while (::flock(lock.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return PosixError("put '" + req.key + "': lock '" + lock_path + "'", errno);
    }
    struct stat now;
    if (::stat(final_path.c_str(), &now) != 0) {
      if (errno != ENOENT) return PosixError("put '" + req.key + "': stat '" + final_path + "'", errno);
      return Status::FailedPrecondition("object '" + req.key + "' in " + Describe() + " is absent, not " +
                                        *req.if_match + " (If-Match)");
    }
    const std::string etag = ValidatorEtag(now);
    if (etag != *req.if_match) {
      return Status::FailedPrecondition("object '" + req.key + "' in " + Describe() + " has ETag " + etag +
                                        ", not " + *req.if_match + " (If-Match)");
    }
  }

  if (req.if_none_match) {
    if (int err = temp.RenameNoReplace(final_path); err != 0) {
      if (err == EEXIST) {
        struct stat st;
        if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          return Status::FailedPrecondition(ConflictMessage(req.key, "keys exist under it"));
        }
        return Status::AlreadyExists("object '" + req.key + "' already exists in " + Describe());
      }
      return PosixError("put '" + req.key + "': create '" + final_path + "'", err);
    }
  } else if (int err = temp.RenameOver(final_path); err != 0) {
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return Status::FailedPrecondition(ConflictMessage(req.key, "keys exist under it"));
    }
    return PosixError("put '" + req.key + "': rename over '" + final_path + "'", err);
  }
  if (options_.sync) {
    Status st = SyncDirectory(dir_path);
    // kNotFound: a concurrent Delete already removed the new object and its
    // then-empty directory. The Put took effect and a later Delete won; that
    // is success, not an error.
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st.WithContext("put '" + req.key + "'");
  }

  // The ETag from our own descriptor, so a racing Put of the same key cannot
  // be confused with ours (rename keeps the inode and the mtime).
  struct stat st;
  if (::fstat(temp.fd(), &st) != 0) return PosixError("put '" + req.key + "': stat the new object", errno);
  return ObjectInfo{req.key, req.body_size(), ValidatorEtag(st)};
}

// ---------------------------------------------------------------------------
// Delete

Status LocalStore::DoDelete(const std::string& key) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0) {
    int err = errno;
    // Missing, or a directory (which is not an object): nothing to delete.
    if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::Ok();
    return PosixError("delete '" + key + "' from " + Describe(), err);
  }
  // Remove parents left empty, deepest first. rmdir fails harmlessly
  // (ENOTEMPTY, ENOENT) when another key lives there or a concurrent Delete
  // got there first; a concurrent Put recreates what it needs.
  std::string dir_key = Parent(key);
  while (!dir_key.empty()) {
    if (::rmdir(PathOf(dir_key).c_str()) != 0) break;
    dir_key = Parent(dir_key);
  }
  if (options_.sync) {
    // The nearest surviving directory records the last removal.
    Status st = SyncDirectory(dir_key.empty() ? root_ : PathOf(dir_key));
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st.WithContext("delete '" + key + "'");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// List

// One pruned, ordered depth-first walk of the root feeding a ListPager.
// Ordering: inside a directory, a file sorts by its name and a
// subdirectory by its name + "/" (every key under it starts with that), so
// visiting entries in that order yields keys in bytewise order.
class LocalStore::ListWalk {
 public:
  ListWalk(LocalStore* store, ListPager* pager) : store_(store), pager_(pager) {}

  // Walks the directory `dir_path` whose keys all start with `key_prefix`.
  // Returns true when the page is complete (stop everything).
  Result<bool> Walk(const std::string& dir_path, const std::string& key_prefix) {
    struct Entry {
      std::string name;
      std::string sort_key;  // name, or name + "/" for a directory
      bool is_dir;
    };
    std::vector<Entry> entries;
    {
      DIR* dir = ::opendir(dir_path.empty() ? "/" : dir_path.c_str());
      if (dir == nullptr) {
        // Removed by a concurrent Delete: it holds nothing now.
        if (errno == ENOENT || errno == ENOTDIR) return false;
        return PosixError("list: open directory '" + dir_path + "'", errno);
      }
      store_->dirs_opened_.fetch_add(1, std::memory_order_relaxed);
      for (;;) {
        errno = 0;
        struct dirent* de = ::readdir(dir);
        if (de == nullptr) {
          if (errno != 0) {
            int err = errno;
            ::closedir(dir);
            return PosixError("list: read directory '" + dir_path + "'", err);
          }
          break;
        }
        std::string_view name = de->d_name;
        if (!ListableName(name)) continue;
        if (key_prefix.size() + name.size() > kMaxObjectKeyBytes) continue;  // also bounds symlink loops
        bool is_dir;
        if (de->d_type == DT_DIR) {
          is_dir = true;
        } else if (de->d_type == DT_REG) {
          is_dir = false;
        } else if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
          struct stat st;
          if (::fstatat(::dirfd(dir), de->d_name, &st, 0) != 0) continue;  // vanished or dangling
          if (S_ISDIR(st.st_mode)) {
            is_dir = true;
          } else if (S_ISREG(st.st_mode)) {
            is_dir = false;
          } else {
            continue;
          }
        } else {
          continue;  // fifo, socket, device: not an object
        }
        // Filter before sorting: resuming near the end of a big directory
        // then sorts only what is left.
        std::string full = key_prefix;
        full += name;
        if (is_dir) {
          full += '/';
          ListPager::Subtree s = pager_->ClassifySubtree(full);
          if (s != ListPager::Subtree::kVisit) continue;
        } else if (!pager_->InRange(full)) {
          continue;
        }
        entries.push_back(Entry{std::string(name), std::move(full), is_dir});
      }
      ::closedir(dir);
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return CompareBytes(a.sort_key, b.sort_key) < 0; });

    for (const Entry& e : entries) {
      // A common prefix rolled up meanwhile may cover the rest of this
      // directory.
      ListPager::Subtree here = pager_->ClassifySubtree(key_prefix);
      if (here == ListPager::Subtree::kStop) return true;
      if (here == ListPager::Subtree::kSkip) return false;
      std::string child_path = dir_path + "/" + e.name;
      if (e.is_dir) {
        ListPager::Subtree s = pager_->ClassifySubtree(e.sort_key);
        if (s == ListPager::Subtree::kStop) return true;
        if (s == ListPager::Subtree::kSkip) continue;
        FRESHET_ASSIGN_OR_RETURN(bool done, Walk(child_path, e.sort_key));
        if (done) return true;
        continue;
      }
      ListPager::Verdict v = pager_->Offer(e.sort_key);
      if (v == ListPager::Verdict::kStop) return true;
      if (v == ListPager::Verdict::kSkip) continue;
      struct stat st;
      if (::stat(child_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // gone meanwhile
      pager_->Take(ObjectInfo{e.sort_key, static_cast<uint64_t>(st.st_size), ValidatorEtag(st)});
    }
    return false;
  }

 private:
  LocalStore* store_;
  ListPager* pager_;
};

Result<ListPage> LocalStore::DoList(const ListRequest& req) {
  FRESHET_ASSIGN_OR_RETURN(ListPager pager, ListPager::Create(req));
  ListWalk walk(this, &pager);
  Result<bool> done = walk.Walk(root_, "");
  if (!done.ok()) return done.status().WithContext("list " + Describe());
  return std::move(pager).Finish();
}

}  // namespace freshet
