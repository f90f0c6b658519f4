// S3 response and error documents, parsed with pugixml (pure code, no
// I/O). Malformed XML is kDataLoss ("truncated or corrupt response"),
// which the caller treats as a bad response, naming the operation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "freshet/status.h"
#include "storage/object_store.h"

namespace freshet::s3 {

// An <Error> document: <Code>, <Message>, <RequestId>, <Resource>.
struct S3Error {
  std::string code;
  std::string message;
  std::string request_id;
  std::string resource;
};

// nullopt when `xml` is not an <Error> document (empty, malformed, other
// root). <ErrorResponse><Error>... (the query-protocol form) is accepted.
std::optional<S3Error> ParseError(std::string_view xml);

// A ListBucketResult page. Keys are the full keys as stored (the caller
// strips its prefix); ETags are unquoted; with <EncodingType>url</...> the
// keys and common prefixes are URL-decoded ('+' is a space, as the SDKs
// read it). The continuation token is opaque and returned as sent (S3 does
// not encode it; decoding would turn a base64 '+' into a space).
// kDataLoss for malformed XML, another root element, a <Size> that is not
// a decimal number, a <Contents> without <Key>, or IsTruncated without a
// NextContinuationToken (the caller could not go on).
struct ListObjectsV2Page {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;
};
Result<ListObjectsV2Page> ParseListObjectsV2(std::string_view xml);

// <InitiateMultipartUploadResult><UploadId>; kDataLoss if absent.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

// The body of CompleteMultipartUpload: parts as (part number, ETag as
// returned by UploadPart, quotes included or not), in the order given
// (S3 wants ascending part numbers). ETags are sent quoted.
std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts);

// The 200 response of CompleteMultipartUpload: the final ETag (unquoted),
// or the <Error> S3 put inside a 200 (the caller retries per its code),
// either as the root element or inside the result. kDataLoss for an empty
// or whitespace-only body (S3 sends whitespace while it works, so a lost
// connection leaves only that) and for a result without an ETag.
struct CompleteMultipartResult {
  std::string etag;
  std::optional<S3Error> error;
};
Result<CompleteMultipartResult> ParseCompleteMultipartUpload(std::string_view xml);

// Strips one pair of surrounding double quotes (and a W/ prefix) from an
// ETag header or element.
std::string UnquoteEtag(std::string_view etag);

}  // namespace freshet::s3
