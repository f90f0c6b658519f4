#include "reader/store_range_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "storage/blocking_store.h"

namespace freshet {
namespace {

Status CheckRange(const std::string& key, uint64_t size, uint64_t offset, uint64_t length) {
  if (offset > size || length > size - offset) {
    return Status::InvalidArgument(key + ": read [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                   ") past the end of " + std::to_string(size) + " bytes");
  }
  return Status::Ok();
}

Status SizeMismatch(const std::string& key, uint64_t actual, uint64_t size) {
  return Status::DataLoss(key + ": object is " + std::to_string(actual) + " bytes, manifest says " +
                          std::to_string(size));
}

class StoreRangeSourceImpl final : public RandomAccessSource {
 public:
  StoreRangeSourceImpl(std::shared_ptr<ObjectStore> store, std::string key, uint64_t size)
      : store_(std::move(store)), key_(std::move(key)), size_(size) {}

  uint64_t size() const override { return size_; }

  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    FRESHET_RETURN_IF_ERROR(CheckRange(key_, size_, offset, length));
    if (length == 0) return std::string();
    GetRequest req;
    req.key = key_;
    req.range = ByteRange{offset, length};
    FRESHET_ASSIGN_OR_RETURN(GetResult got, GetSync(*store_, std::move(req)));
    if (got.info.size != size_) return SizeMismatch(key_, got.info.size, size_);
    if (got.body.size() != length) {
      return Status::DataLoss(key_ + ": short read at " + std::to_string(offset) + ": " +
                              std::to_string(got.body.size()) + " of " + std::to_string(length) + " bytes");
    }
    return std::move(got.body);
  }

 private:
  const std::shared_ptr<ObjectStore> store_;
  const std::string key_;
  const uint64_t size_;
};

// The object is a local file: positional reads on a descriptor opened once,
// with no store round trip (a block read costs a pread, not a hop to the
// store's I/O threads and back). The descriptor keeps the bytes it opened
// even if the object is replaced or deleted meanwhile.
class FileRangeSource final : public RandomAccessSource {
 public:
  FileRangeSource(std::string key, int fd, uint64_t size) : key_(std::move(key)), fd_(fd), size_(size) {}
  ~FileRangeSource() override { ::close(fd_); }
  FileRangeSource(const FileRangeSource&) = delete;
  FileRangeSource& operator=(const FileRangeSource&) = delete;

  uint64_t size() const override { return size_; }

  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    FRESHET_RETURN_IF_ERROR(CheckRange(key_, size_, offset, length));
    std::string out(length, '\0');
    uint64_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Unavailable(key_ + ": read failed: " + std::strerror(errno));
      if (n == 0) {
        return Status::DataLoss(key_ + ": short read at " + std::to_string(offset + done) + " of a " +
                                std::to_string(size_) + "-byte object");
      }
      done += static_cast<uint64_t>(n);
    }
    return out;
  }

 private:
  const std::string key_;
  const int fd_;
  const uint64_t size_;
};

}  // namespace

std::unique_ptr<RandomAccessSource> StoreRangeSource(std::shared_ptr<ObjectStore> store, std::string key,
                                                     uint64_t size) {
  if (std::optional<std::string> path = store->LocalPath(key)) {
    const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == size) {
      return std::make_unique<FileRangeSource>(std::move(key), fd, size);
    }
    if (fd >= 0) ::close(fd);
    // Missing, replaced or of another size: the ranged GETs below report it
    // with the store's own error (kNotFound, or kDataLoss for the size).
  }
  return std::make_unique<StoreRangeSourceImpl>(std::move(store), std::move(key), size);
}

}  // namespace freshet
