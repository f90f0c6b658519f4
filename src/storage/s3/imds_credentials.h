// Credentials from EC2 instance metadata (IMDSv2), the last link of the
// chain in credentials.h.
//
// A refresh is three requests, each with ImdsOptions::request_timeout:
//   PUT /latest/api/token            X-aws-ec2-metadata-token-ttl-seconds
//   GET /latest/meta-data/iam/security-credentials/         -> role name
//   GET /latest/meta-data/iam/security-credentials/<role>   -> JSON
// and the whole refresh is bounded by ImdsOptions::refresh_timeout (the
// HTTP client's connect timeout may be longer; 169.254.169.254 off EC2 does
// not refuse, it just never answers). IMDSv1 (no token) is not used.
//
// Get() serves the cached credentials while they are more than
// refresh_before_expiry from expiring. Otherwise it refreshes; calls that
// arrive while a refresh is in flight wait for that one refresh. When the
// refresh fails and the cached credentials have not expired yet, they are
// served (with a warning in the log), and no new refresh is tried for
// retry_interval. When nothing valid is cached the caller gets
// kPermissionDenied "no AWS credentials: ... instance metadata at
// <endpoint> failed: <reason>".
//
// Neither errors, logs nor Describe() carry key material or the IMDS token.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "freshet/time.h"
#include "storage/http/http_client.h"
#include "storage/s3/credentials.h"

namespace freshet::s3 {

struct ImdsOptions {
  // Default: http://169.254.169.254 (credentials.cc reads
  // AWS_EC2_METADATA_SERVICE_ENDPOINT).
  HttpEndpoint endpoint{false, "169.254.169.254", 80};
  std::chrono::milliseconds request_timeout{1000};  // each of the three requests
  std::chrono::milliseconds refresh_timeout{3000};  // the whole refresh, connects included
  std::chrono::seconds token_ttl{21600};            // asked for in the token PUT
  // Refresh when the credentials expire within this.
  std::chrono::milliseconds refresh_before_expiry = std::chrono::minutes(5);
  // After a failed refresh with still-valid credentials, serve them without
  // asking again for this long.
  std::chrono::milliseconds retry_interval = std::chrono::seconds(30);
  // Wall-clock now, compared with the credentials' Expiration. Default: the
  // system clock. Tests inject a manual clock.
  std::function<TimePoint()> now;
};

// REQUIRES: http outlives the provider (in-flight requests hold the
// provider, not the client, alive).
std::shared_ptr<CredentialsProvider> MakeImdsCredentials(HttpClient* http, ImdsOptions options);

}  // namespace freshet::s3
