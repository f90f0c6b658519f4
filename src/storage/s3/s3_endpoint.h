// Where an s3:// URI lives and how its requests are addressed, as pure
// code: URI parsing, region and endpoint resolution (config, then the AWS
// environment), and path-style vs virtual-hosted addressing.
#pragma once

#include <string>
#include <string_view>

#include "config/options.h"
#include "freshet/status.h"
#include "storage/http/http_client.h"
#include "storage/s3/credentials.h"

namespace freshet::s3 {

// "s3://bucket/some/prefix" -> {bucket, "some/prefix/"}; "s3://bucket" ->
// {bucket, ""}. The prefix is a folder: the store's keys live under it.
struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or ends with '/'
};
Result<S3Location> ParseS3Uri(std::string_view uri);

struct ResolvedEndpoint {
  HttpEndpoint base;          // the endpoint as configured (no bucket in the host)
  std::string base_path;      // a path the endpoint URL carried ("" or "/x"), kept in front
  std::string region;
  bool virtual_hosted = false;
  bool is_aws = false;        // the default AWS endpoint (or a *.amazonaws.com one)
};

// Region: options.region, AWS_REGION, AWS_DEFAULT_REGION, "us-east-1".
// Endpoint: options.endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
// https://s3.<region>.amazonaws.com. Addressing "auto" picks virtual-hosted
// on AWS when the bucket is a valid DNS label for it (no dots over https,
// lowercase, 3..63 chars) and path-style otherwise (custom endpoints such as
// MinIO or s3rver generally want path-style).
Result<ResolvedEndpoint> ResolveEndpoint(const S3Options& options, const EnvLookup& env,
                                         std::string_view bucket);

// The connection endpoint and decoded request path for `full_key` (the key
// with the store prefix; "" addresses the bucket itself, as ListObjectsV2
// does). Path-style: host = endpoint, path "/bucket/key" ("/bucket" for the
// bucket: no trailing slash). Virtual-hosted: host = "bucket.<endpoint>",
// path "/key" ("/" for the bucket).
struct Addressed {
  HttpEndpoint endpoint;
  std::string path;  // decoded; sigv4::EncodePath() makes the wire form
};
Addressed Address(const ResolvedEndpoint& endpoint, std::string_view bucket, std::string_view full_key);

}  // namespace freshet::s3
