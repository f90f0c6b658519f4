// MD5 digests as lowercase hex, the form S3 uses for single-part ETags.
// MD5 is used only to match S3's ETag; it is not a security or integrity
// primitive in freshet (index blocks carry their own checksums).
//
// Implemented with OpenSSL EVP. If the platform's OpenSSL refuses MD5 (a
// FIPS-only provider setup), these functions abort with a message: ETags
// cannot be produced at all in that configuration.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "freshet/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX; kept out of this header.

namespace freshet {

// Lowercase hex MD5 of `data` (32 characters).
std::string Md5Hex(std::string_view data);

// Incremental MD5 for data that arrives in pieces. Not thread-safe.
class Md5Hasher {
 public:
  Md5Hasher();
  ~Md5Hasher();
  Md5Hasher(const Md5Hasher&) = delete;
  Md5Hasher& operator=(const Md5Hasher&) = delete;

  void Update(std::string_view data);
  // Lowercase hex digest of everything passed to Update so far; the hasher
  // is then reset and may be reused.
  std::string FinishHex();

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

// Lowercase hex MD5 of everything readable from `fd`, read with pread from
// offset 0 to end of file (the file position is left alone). Errors:
// kUnavailable for read errors (errno in the message).
Result<std::string> Md5HexOfFd(int fd);

// Lowercase hex MD5 of the file at `path`. kNotFound if it does not exist,
// kPermissionDenied if it cannot be opened, kUnavailable for read errors.
Result<std::string> Md5HexOfFile(const std::string& path);

}  // namespace freshet
