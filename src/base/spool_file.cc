#include "base/spool_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/posix_error.h"

namespace freshet {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

std::string NextSpoolPath(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  return dir + "/" + std::string(kSpoolPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         std::string(kSpoolSuffix);
}

}  // namespace

SpoolFile::~SpoolFile() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

Result<std::string> SpoolFile::Read(uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    return Status::InvalidArgument("read of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
                                   " past the end of spool file " + path_ + " (" + std::to_string(size_) + " bytes)");
  }
  std::string out(length, '\0');
  uint64_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd_, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read spool file " + path_, errno);
    }
    if (n == 0) {
      return Status::DataLoss("spool file " + path_ + " ends at " + std::to_string(offset + got) + ", not at " +
                              std::to_string(size_) + ": changed under the build");
    }
    got += static_cast<uint64_t>(n);
  }
  return out;
}

Status CopySpool(const SpoolFile& file, int fd, const std::string& dest) {
  loff_t in = 0;
  bool kernel = true;
  while (static_cast<uint64_t>(in) < file.size()) {
    const uint64_t left = file.size() - static_cast<uint64_t>(in);
    if (kernel) {
      const ssize_t n = ::copy_file_range(file.fd(), &in, fd, nullptr, std::min<uint64_t>(left, 1 << 30), 0);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return PosixError("copy spool file " + file.path() + " to " + dest, errno);
      }
      if (n == 0) {
        return Status::DataLoss("spool file " + file.path() + " ends at " + std::to_string(in) + ", not at " +
                                std::to_string(file.size()) + ": changed under the build");
      }
      kernel = false;  // not between these two files: copy through memory
    }
    FRESHET_ASSIGN_OR_RETURN(std::string piece, file.Read(static_cast<uint64_t>(in), std::min<uint64_t>(left, kBufferBytes)));
    FRESHET_RETURN_IF_ERROR(WriteAllTo(fd, piece, dest));
    in += static_cast<loff_t>(piece.size());
  }
  return Status::Ok();
}

Result<std::unique_ptr<SpoolWriter>> SpoolWriter::Create(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return PosixError("create scratch directory " + dir, ec.value());
  std::string path = NextSpoolPath(dir);
  const int fd = OpenFile(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_TRUNC, 0600);
  if (fd < 0) return PosixError("create spool file " + path, errno);
  return std::unique_ptr<SpoolWriter>(new SpoolWriter(std::move(path), fd));
}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

Status SpoolWriter::Append(std::string_view data) {
  if (!status_.ok()) return status_;
  size_ += data.size();
  if (buffer_.size() + data.size() > kBufferBytes) {
    FRESHET_RETURN_IF_ERROR(Flush());
    if (data.size() >= kBufferBytes) {
      status_ = WriteAllTo(fd_, data, path_);
      return status_;
    }
  }
  if (buffer_.capacity() < kBufferBytes) buffer_.reserve(kBufferBytes);
  buffer_.append(data);
  return Status::Ok();
}

Status SpoolWriter::Flush() {
  if (!status_.ok() || buffer_.empty()) return status_;
  status_ = WriteAllTo(fd_, buffer_, path_);
  buffer_.clear();
  return status_;
}

Result<std::shared_ptr<const SpoolFile>> SpoolWriter::Finish() {
  FRESHET_RETURN_IF_ERROR(Flush());
  buffer_ = std::string();
  std::shared_ptr<const SpoolFile> file(new SpoolFile(path_, fd_, size_));
  fd_ = -1;  // the file's now
  return file;
}

}  // namespace freshet
