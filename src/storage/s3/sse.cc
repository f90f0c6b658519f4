#include "storage/s3/sse.h"

#include <openssl/evp.h>
#include <openssl/md5.h>

namespace freshet::s3 {
namespace {

// Strict base64 of exactly `bytes` bytes: the canonical padded form only.
bool DecodeBase64(const std::string& in, size_t bytes, std::string* out) {
  const size_t want_len = (bytes + 2) / 3 * 4;
  if (in.size() != want_len) return false;
  std::string raw(want_len / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  raw.resize(bytes);  // EVP_DecodeBlock counts the padding as zero bytes
  unsigned char back[64] = {};
  int m = EVP_EncodeBlock(back, reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  if (m < 0 || std::string(reinterpret_cast<char*>(back), static_cast<size_t>(m)) != in) return false;
  *out = std::move(raw);
  return true;
}

std::string Base64(const std::string& raw) {
  unsigned char buf[64] = {};
  int n = EVP_EncodeBlock(buf, reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  return std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
}

}  // namespace

Result<Sse> SseFromOptions(const S3Options& o) {
  Sse sse;
  sse.mode = o.sse;
  if (!sse.mode.empty() && sse.mode != "AES256" && sse.mode != "aws:kms" && sse.mode != "aws:kms:dsse") {
    return Status::InvalidArgument("s3.sse: expected \"\", \"AES256\", \"aws:kms\" or \"aws:kms:dsse\", got \"" +
                                   sse.mode + "\"");
  }
  sse.kms_key_id = o.sse_kms_key_id;
  if (!sse.kms_key_id.empty() && !sse.mode.starts_with("aws:kms")) {
    return Status::InvalidArgument("s3.sse_kms_key_id needs s3.sse \"aws:kms\" or \"aws:kms:dsse\"");
  }
  if (!o.sse_customer_key.empty()) {
    if (!sse.mode.empty()) {
      return Status::InvalidArgument("s3.sse_customer_key (SSE-C) cannot be combined with s3.sse \"" + sse.mode +
                                     "\"");
    }
    std::string raw;
    if (!DecodeBase64(o.sse_customer_key, 32, &raw)) {
      return Status::InvalidArgument("s3.sse_customer_key must be the base64 of a 256-bit (32-byte) key");
    }
    unsigned char md5[MD5_DIGEST_LENGTH];
    unsigned int md5_len = 0;
    EVP_Digest(raw.data(), raw.size(), md5, &md5_len, EVP_md5(), nullptr);
    sse.customer_key = o.sse_customer_key;
    sse.customer_key_md5 = Base64(std::string(reinterpret_cast<char*>(md5), md5_len));
  }
  return sse;
}

void AddCreateHeaders(const Sse& sse, HttpHeaders* headers) {
  if (!sse.mode.empty()) headers->emplace_back("x-amz-server-side-encryption", sse.mode);
  if (!sse.kms_key_id.empty()) headers->emplace_back("x-amz-server-side-encryption-aws-kms-key-id", sse.kms_key_id);
  AddCustomerKeyHeaders(sse, headers);
}

void AddCustomerKeyHeaders(const Sse& sse, HttpHeaders* headers) {
  if (!sse.customer()) return;
  headers->emplace_back("x-amz-server-side-encryption-customer-algorithm", "AES256");
  headers->emplace_back("x-amz-server-side-encryption-customer-key", sse.customer_key);
  headers->emplace_back("x-amz-server-side-encryption-customer-key-md5", sse.customer_key_md5);
}

}  // namespace freshet::s3
