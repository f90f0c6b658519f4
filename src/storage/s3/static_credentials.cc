#include "storage/s3/credentials.h"

namespace freshet::s3 {
namespace {

class StaticCredentials final : public CredentialsProvider {
 public:
  StaticCredentials(sigv4::Credentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}
  void Get(std::function<void(Result<sigv4::Credentials>)> done) override { done(credentials_); }
  std::string Describe() const override { return description_; }

 private:
  const sigv4::Credentials credentials_;
  const std::string description_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> MakeStaticCredentials(sigv4::Credentials credentials, std::string description) {
  return std::make_shared<StaticCredentials>(std::move(credentials), std::move(description));
}

}  // namespace freshet::s3
