#include "base/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "base/posix_error.h"

namespace freshet {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

int Fd::Close() {
  if (fd_ < 0) return 0;
  int rc = ::close(fd_);
  fd_ = -1;
  return rc == 0 ? 0 : errno;
}

int OpenFile(const char* path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status WriteAllTo(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write '" + path + "'", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  const std::string& path = dir.empty() ? std::string("/") : dir;
  Fd fd(OpenFile(path.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK));
  if (!fd.valid()) return PosixError("open directory '" + path + "' for fsync", errno);
  if (::fsync(fd.get()) != 0) return PosixError("fsync directory '" + path + "'", errno);
  return Status::Ok();
}

int TempFile::Create(const std::string& dir, const std::string& name, mode_t mode, TempFile* out) {
  std::string path = dir + "/" + name;
  int fd = OpenFile(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) return errno;
  *out = TempFile();
  out->path_ = std::move(path);
  out->fd_ = Fd(fd);
  return 0;
}

TempFile::~TempFile() {
  if (!path_.empty() && !placed_) ::unlink(path_.c_str());
}

TempFile::TempFile(TempFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), placed_(other.placed_) {
  other.path_.clear();
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty() && !placed_) ::unlink(path_.c_str());
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    placed_ = other.placed_;
    other.path_.clear();
  }
  return *this;
}

Status TempFile::Sync() {
  if (::fsync(fd_.get()) != 0) return PosixError("fsync '" + path_ + "'", errno);
  return Status::Ok();
}

int TempFile::RenameOver(const std::string& dest) {
  if (::rename(path_.c_str(), dest.c_str()) != 0) return errno;
  placed_ = true;
  return 0;
}

int TempFile::RenameNoReplace(const std::string& dest) {
  if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) == 0) {
    placed_ = true;
    return 0;
  }
  int err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP) return err;
  // No RENAME_NOREPLACE here: link() is equally atomic create-if-absent.
  if (::link(path_.c_str(), dest.c_str()) != 0) return errno;
  ::unlink(path_.c_str());
  placed_ = true;
  return 0;
}

Status WriteFileAtomically(const std::string& path, std::string_view body, std::string_view label) {
  static std::atomic<uint64_t> counter{0};
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string what(label);
  TempFile temp;
  const std::string name = base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  if (int err = TempFile::Create(dir, name, 0644, &temp); err != 0) {
    return PosixError(what + ": create temp file '" + dir + "/" + name + "' for '" + path + "'", err);
  }
  if (Status st = temp.Write(body); !st.ok()) return st.WithContext(what);
  if (Status st = temp.Sync(); !st.ok()) return st.WithContext(what);
  if (int err = temp.RenameOver(path); err != 0) {
    return PosixError(what + ": rename '" + temp.path() + "' over '" + path + "'", err);
  }
  // The rename is durable only once the directory entry is.
  if (Status st = SyncDirectory(dir); !st.ok()) return st.WithContext(what + " '" + path + "'");
  return Status::Ok();
}

}  // namespace freshet
