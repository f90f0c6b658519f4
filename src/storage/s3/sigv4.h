// AWS Signature Version 4, as plain synchronous code (no Asio, no I/O):
// canonical request, string to sign, signing key, the Authorization header
// and presigned URLs.
//
// S3 rules are the defaults: the path is URI-encoded once per segment
// ('/' kept), never double-encoded, never normalised ("/a/./b//c" is
// signed as written). The generic AWS test suite's behaviour (double
// encoding; optional RFC 3986 normalisation) is available through
// SigningParams for the test vectors only.
//
// Inputs are *decoded*: the path and query names/values are the raw bytes
// (UTF-8, spaces, '+', '=' ...); the signer encodes them with
// UriEncode(). A caller that sends the request must build its request
// target with EncodePath()/CanonicalQuery() so that what is sent is what
// was signed.
//
// Verified against ../shared/testdata/sigv4 (test/storage/s3/sigv4_test.cc)
// and differentially against the AWS SDK for JavaScript's signer
// (sigv4_differential_test.cc).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "freshet/time.h"
#include "storage/http/http_client.h"

namespace freshet::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" = none
};

// The payload hash for a body that is not signed (S3 only).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SignableRequest {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // decoded, starts with '/': "/bucket/my key+1.txt"
  // Decoded query parameters in any order; repeated names and empty values
  // allowed ("?uploads" is {"uploads", ""}).
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign, as sent. Must include "host". Names are matched
  // case-insensitively; values are trimmed and inner runs of spaces
  // collapsed for signing (the sent values are unchanged).
  HttpHeaders headers;
  // Lowercase hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash;
};

struct SigningParams {
  std::string region;             // "us-east-1"
  std::string service = "s3";
  TimePoint time;                 // signing time (X-Amz-Date)
  // Generic-suite switches; S3 needs both false.
  bool double_encode_path = false;
  bool normalize_path = false;
  // Add and sign "x-amz-content-sha256: <payload_hash>" (S3 requires it for
  // header signing).
  bool add_content_sha256_header = true;
  // false: X-Amz-Security-Token is added after signing and not signed (the
  // suite's "omit_session_token"; some services want that).
  bool sign_session_token = true;
};

struct HeaderSignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
  // Headers the caller must add to the request, Authorization included:
  // X-Amz-Date, x-amz-content-sha256 (if asked), X-Amz-Security-Token (if
  // a token), Authorization.
  HttpHeaders headers_to_add;
};

// Signs with the Authorization header. REQUIRES: request.headers has host.
HeaderSignature SignHeaders(const SignableRequest& request, const Credentials& credentials,
                            const SigningParams& params);

struct QuerySignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  // The full query to send (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
  // X-Amz-Expires, X-Amz-SignedHeaders, [X-Amz-Security-Token],
  // X-Amz-Signature plus the request's own parameters), canonically encoded
  // and ordered, without the leading '?'.
  std::string query;
};

// A presigned URL's query. The payload hash used is request.payload_hash
// (S3 presigned URLs use kUnsignedPayload).
QuerySignature Presign(const SignableRequest& request, const Credentials& credentials,
                       const SigningParams& params, std::chrono::seconds expires);

// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) pass; every other
// byte becomes %XX (uppercase hex). '/' passes only when !encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash);
// The canonical URI for a decoded path (S3: once per segment, '/' kept).
std::string EncodePath(std::string_view path, bool double_encode = false);
// Names and values encoded, sorted by encoded name then value, joined with
// '&' and '='. Also what a sender puts after '?'.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

std::string Sha256Hex(std::string_view data);
// "20150830T123600Z".
std::string FormatAmzDate(TimePoint t);

}  // namespace freshet::sigv4
