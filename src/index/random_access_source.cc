#include "index/random_access_source.h"

namespace freshet {
namespace {

// Bytes is std::string (owned) or std::string_view (not).
template <typename Bytes>
class StringSourceImpl final : public RandomAccessSource {
 public:
  explicit StringSourceImpl(Bytes bytes) : bytes_(std::move(bytes)) {}

  uint64_t size() const override { return bytes_.size(); }

  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    if (offset > bytes_.size() || length > bytes_.size() - offset) {
      return Status::InvalidArgument("read [" + std::to_string(offset) + ", +" +
                                     std::to_string(length) + ") past end of " +
                                     std::to_string(bytes_.size()) + "-byte source");
    }
    return std::string(bytes_.substr(static_cast<size_t>(offset), static_cast<size_t>(length)));
  }

 private:
  const Bytes bytes_;
};

class SpoolSourceImpl final : public RandomAccessSource {
 public:
  explicit SpoolSourceImpl(std::shared_ptr<const SpoolFile> file) : file_(std::move(file)) {}
  uint64_t size() const override { return file_->size(); }
  Result<std::string> Read(uint64_t offset, uint64_t length) const override { return file_->Read(offset, length); }

 private:
  const std::shared_ptr<const SpoolFile> file_;
};

}  // namespace

std::unique_ptr<RandomAccessSource> SpoolSource(std::shared_ptr<const SpoolFile> file) {
  return std::make_unique<SpoolSourceImpl>(std::move(file));
}

std::unique_ptr<RandomAccessSource> StringSource(std::string bytes) {
  return std::make_unique<StringSourceImpl<std::string>>(std::move(bytes));
}

std::unique_ptr<RandomAccessSource> StringViewSource(std::string_view bytes) {
  return std::make_unique<StringSourceImpl<std::string_view>>(bytes);
}

}  // namespace freshet
