// How an s3:// store (the daemon's source and sink, or a reader's sink) is
// reached: the one part of freshet's configuration the reader library
// shares with the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace freshet {

// How s3:// URIs (source and sink) are reached. Empty strings defer to the
// AWS environment, in the SDKs' order (see README "S3").
struct S3Options {
  std::string region;      // "" = AWS_REGION, AWS_DEFAULT_REGION, then "us-east-1"
  std::string endpoint;    // "" = AWS_ENDPOINT_URL, then https://s3.<region>.amazonaws.com
  std::string addressing = "auto";  // auto|path|virtual; auto = virtual on AWS, path elsewhere
  // Credentials, first found wins: these keys; AWS_ACCESS_KEY_ID /
  // AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; the shared credentials file
  // (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) for `profile` or
  // AWS_PROFILE or "default"; EC2 instance metadata (IMDSv2).
  std::string access_key_id;
  std::string secret_access_key;  // never logged or printed
  std::string session_token;      // never logged or printed
  std::string profile;
  bool verify_tls = true;
  std::string ca_file;            // extra PEM CA bundle; "" = system store only
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(3);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(60);  // one attempt, whole exchange
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(20);     // pooled connection unused this long
  uint32_t max_connections = 32;  // per endpoint
  uint32_t max_attempts = 5;      // per request, first try included
  std::chrono::milliseconds retry_base_delay = std::chrono::milliseconds(100);
  std::chrono::milliseconds retry_max_delay = std::chrono::seconds(5);
  uint64_t multipart_threshold = 64ull << 20;  // Put bodies above this use multipart upload
  uint64_t multipart_part_size = 16ull << 20;  // >= 5 MiB (S3's minimum part)
  // Server-side encryption of the objects freshet writes. "" = the
  // bucket's default; "AES256" (SSE-S3), "aws:kms" or "aws:kms:dsse"
  // (SSE-KMS, with sse_kms_key_id or the AWS-managed key). Reading needs
  // nothing: S3 decrypts, except for SSE-C.
  std::string sse;
  std::string sse_kms_key_id;
  // SSE-C: base64 of a 256-bit key, sent with every object request; objects
  // written with it can only be read with it. Never logged or printed.
  std::string sse_customer_key;
};

}  // namespace freshet
