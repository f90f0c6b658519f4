#include "reader/store_range_source.h"

#include <utility>

#include "storage/blocking_store.h"

namespace freshet {
namespace {

class StoreRangeSourceImpl final : public RandomAccessSource {
 public:
  StoreRangeSourceImpl(std::shared_ptr<ObjectStore> store, std::string key, uint64_t size)
      : store_(std::move(store)), key_(std::move(key)), size_(size) {}

  uint64_t size() const override { return size_; }

  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    if (offset > size_ || length > size_ - offset) {
      return Status::InvalidArgument(key_ + ": read [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                     ") past the end of " + std::to_string(size_) + " bytes");
    }
    if (length == 0) return std::string();
    GetRequest req;
    req.key = key_;
    req.range = ByteRange{offset, length};
    FRESHET_ASSIGN_OR_RETURN(GetResult got, GetSync(*store_, std::move(req)));
    if (got.info.size != size_) {
      return Status::DataLoss(key_ + ": object is " + std::to_string(got.info.size) + " bytes, manifest says " +
                              std::to_string(size_));
    }
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

}  // namespace

std::unique_ptr<RandomAccessSource> StoreRangeSource(std::shared_ptr<ObjectStore> store, std::string key,
                                                     uint64_t size) {
  return std::make_unique<StoreRangeSourceImpl>(std::move(store), std::move(key), size);
}

}  // namespace freshet
