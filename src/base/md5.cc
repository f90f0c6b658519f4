#include "base/md5.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/posix_error.h"

namespace freshet {
namespace {

[[noreturn]] void Md5Unavailable(const char* step) {
  std::fprintf(stderr, "freshet: OpenSSL MD5 %s failed (MD5 disabled by the OpenSSL configuration?)\n", step);
  std::abort();
}

std::string ToHex(const unsigned char* bytes, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size_t{n} * 2, '\0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

void Md5Hasher::CtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Md5Hasher::Md5Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) != 1) Md5Unavailable("init");
}

Md5Hasher::~Md5Hasher() = default;

void Md5Hasher::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) Md5Unavailable("update");
}

std::string Md5Hasher::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) Md5Unavailable("final");
  if (EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) != 1) Md5Unavailable("init");
  return ToHex(digest, len);
}

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1) Md5Unavailable("digest");
  return ToHex(digest, len);
}

Result<std::string> Md5HexOfFd(int fd) {
  Md5Hasher hasher;
  std::string buf(1 << 16, '\0');
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable("md5: read failed: " + ErrnoText(errno));
    }
    if (n == 0) break;
    hasher.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    offset += n;
  }
  return hasher.FinishHex();
}

Result<std::string> Md5HexOfFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; no effect on regular files.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string what = "md5: cannot open '" + path + "': " + ErrnoText(err);
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound(std::move(what));
    if (err == EACCES || err == EPERM) return Status::PermissionDenied(std::move(what));
    return Status::Unavailable(std::move(what));
  }
  Result<std::string> digest = Md5HexOfFd(fd);
  ::close(fd);
  if (!digest.ok()) return digest.status().WithContext(path);
  return digest;
}

}  // namespace freshet
