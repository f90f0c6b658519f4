// Where S3 credentials come from, in the AWS SDKs' order:
//   1. the config file (s3.access_key_id / s3.secret_access_key /
//      s3.session_token),
//   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//      $HOME/.aws/credentials), profile s3.profile, else AWS_PROFILE, else
//      "default",
//   4. EC2 instance metadata, IMDSv2: PUT /latest/api/token (TTL header),
//      then GET /latest/meta-data/iam/security-credentials/ (role name) and
//      GET .../<role> (JSON with AccessKeyId, SecretAccessKey, Token,
//      Expiration), each with a short timeout; the credentials are cached
//      and refreshed when a Get() finds them within 5 minutes of expiry
//      (imds_credentials.h). Endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT
//      (default http://169.254.169.254); AWS_EC2_METADATA_DISABLED=true
//      skips it.
// Sources 1-3 are read once, when the store opens; a half-set source (key
// id without secret, or a token alone) is an error naming it, not a
// fall-through. Empty values count as unset. The shared file is skipped when
// there is none (HOME and AWS_SHARED_CREDENTIALS_FILE unset, or no file) or
// it has no [default]; a profile named by s3.profile or AWS_PROFILE that
// cannot be found is an error.
//
// Secrets never leave this module in text: Describe() names the source
// ("environment", "shared credentials file /home/u/.aws/credentials
// [prod]", "instance metadata role web (http://169.254.169.254)"), and
// errors never include key material.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/options.h"
#include "freshet/status.h"
#include "storage/s3/sigv4.h"

namespace freshet {
class HttpClient;
}

namespace freshet::s3 {

// Reads an environment variable; nullopt if unset. Tests pass a map.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup ProcessEnvironment();

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Completes exactly once, possibly inline, possibly on the HTTP client's
  // thread. kPermissionDenied when no credentials can be had.
  virtual void Get(std::function<void(Result<sigv4::Credentials>)> done) = 0;
  virtual std::string Describe() const = 0;
};

// Parses an AWS shared credentials file (INI: [profile] sections,
// aws_access_key_id / aws_secret_access_key / aws_session_token; '#' and
// ';' comments). kNotFound if the profile is absent; kInvalidArgument naming
// the file and line for a malformed line or a profile without both keys.
// As in botocore: key names are case-insensitive, comments only on lines of
// their own, indented lines under "key =" (nested settings) are skipped, and
// a repeated section or key adds to / overrides the earlier one.
Result<sigv4::Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                                  std::string_view file_name);

// Always the same credentials (tests, and sources 1-3 once read).
// `description` names the source for Describe() ("config file").
std::shared_ptr<CredentialsProvider> MakeStaticCredentials(sigv4::Credentials credentials,
                                                           std::string description);

// Builds the chain above. `http` is used only for IMDS and must outlive the
// provider. kPermissionDenied when no source applies and IMDS is disabled
// (or `http` is null); kInvalidArgument (kNotFound for a missing named
// profile) when a source is set but unusable. The IMDS provider is lazy:
// its failures surface from Get().
Result<std::shared_ptr<CredentialsProvider>> MakeCredentialsChain(const S3Options& options,
                                                                  const EnvLookup& env, HttpClient* http);

}  // namespace freshet::s3
