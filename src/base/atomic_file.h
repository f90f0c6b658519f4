// The one way freshet replaces a file on local disk: write a temp file in
// the same directory, fsync it, rename it over the destination (or link it
// where nothing exists yet), fsync the directory. A crash at any point
// leaves the old file or the new one, never a torn one; a temp file left by
// a kill is named so its owner recognises and removes it.
//
// Used by the local object store (every put) and the restart bookkeeping
// (admin/run_state.h). Blocking; thread-safe (each TempFile is one
// caller's).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "freshet/status.h"

namespace freshet {

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close()'s errno (0 on success); the descriptor is gone either way.
  int Close();

 private:
  int fd_;
};

// open(2) with O_CLOEXEC, retried on EINTR; -1 with errno set on failure.
int OpenFile(const char* path, int flags, mode_t mode = 0);

// write(2) until all of `data` is written. Errors name `path`.
Status WriteAllTo(int fd, std::string_view data, const std::string& path);

// fsync of a directory, so the entries created or renamed in it are durable.
Status SyncDirectory(const std::string& dir);

// A temp file beside its destination, removed when destroyed unless one of
// the Rename calls moved it into place.
class TempFile {
 public:
  // Creates `dir`/`name` exclusively (O_EXCL). The raw errno on failure
  // (0 on success) so callers can tell ENOENT (make the directory) and
  // EEXIST (pick another name) from the rest.
  static int Create(const std::string& dir, const std::string& name, mode_t mode, TempFile* out);

  TempFile() = default;
  ~TempFile();
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&& other) noexcept;

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

  Status Write(std::string_view data) { return WriteAllTo(fd_.get(), data, path_); }
  Status Sync();
  // rename(2) over `dest`; the raw errno (0 on success) for the caller to
  // map (EISDIR, ENOTEMPTY: a directory is in the way).
  int RenameOver(const std::string& dest);
  // Puts the file at `dest` only if nothing is there: renameat2
  // RENAME_NOREPLACE, or link(2) where the filesystem lacks it (NFS).
  // EEXIST when something is; the raw errno (0 on success).
  int RenameNoReplace(const std::string& dest);

 private:
  std::string path_;
  Fd fd_;
  bool placed_ = false;
};

// The temp+fsync+rename+fsync-dir sequence for a whole file at `path`,
// with `label` in every error message (e.g. "run state").
Status WriteFileAtomically(const std::string& path, std::string_view body, std::string_view label);

}  // namespace freshet
