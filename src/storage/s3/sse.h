// Server-side encryption of the objects freshet writes and reads on S3:
// which request headers ask for it (pure; no I/O).
//
// - SSE-S3 ("AES256") and SSE-KMS ("aws:kms", "aws:kms:dsse", with an
//   optional KMS key id) are asked for on the requests that create an
//   object (PutObject, CreateMultipartUpload); S3 decrypts on read by
//   itself. Left empty, the bucket's default encryption applies.
// - SSE-C: the customer's 256-bit key goes, with its MD5, on every request
//   on an object's bytes (GET, HEAD, PUT, UploadPart, Complete); S3 keeps
//   no copy, so an object written with it cannot be read without it.
// Under SSE-KMS and SSE-C S3's ETag is not the body's MD5; the store
// learns that from the response headers (s3_store.h), not from here.
#pragma once

#include <string>

#include "freshet/s3_options.h"
#include "freshet/status.h"
#include "storage/http/http_client.h"

namespace freshet::s3 {

struct Sse {
  std::string mode;              // "", "AES256", "aws:kms" or "aws:kms:dsse"
  std::string kms_key_id;        // with aws:kms*; "" = the AWS-managed key
  std::string customer_key;      // SSE-C: base64 of the 32-byte key; "" = none
  std::string customer_key_md5;  // base64 of its MD5
  bool customer() const { return !customer_key.empty(); }
};

// From the s3 config section. kInvalidArgument naming the s3.* key (and
// never the key's value) for an unknown mode, a KMS key id without
// aws:kms, a customer key that is not base64 of 32 bytes, or SSE-C
// together with a mode.
Result<Sse> SseFromOptions(const S3Options& options);

// For requests that create an object.
void AddCreateHeaders(const Sse& sse, HttpHeaders* headers);
// For every request on an object's bytes (SSE-C only; nothing otherwise).
void AddCustomerKeyHeaders(const Sse& sse, HttpHeaders* headers);

}  // namespace freshet::s3
