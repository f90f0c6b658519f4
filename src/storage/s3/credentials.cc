#include "storage/s3/credentials.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "storage/http/http_client.h"
#include "storage/s3/imds_credentials.h"

namespace freshet::s3 {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Unset and empty are the same to the SDKs.
std::string Env(const EnvLookup& env, std::string_view name) { return env(name).value_or(""); }

// Sources 1 and 2 share this check: key id and secret together, a token only
// with them. `what` names the source and its fields, never their values.
struct KeyTriple {
  std::string_view source;
  std::string_view id_name, secret_name, token_name;
  const std::string& id;
  const std::string& secret;
  const std::string& token;
};
// nullopt: the source is not set at all; kInvalidArgument: half-set.
Result<std::optional<sigv4::Credentials>> FromTriple(const KeyTriple& k) {
  if (k.id.empty() && k.secret.empty() && k.token.empty()) return std::optional<sigv4::Credentials>();
  auto half = [&](std::string_view set, std::string_view missing) {
    return Status::InvalidArgument(std::string(k.source) + ": " + std::string(set) + " is set but " +
                                   std::string(missing) + " is not");
  };
  if (k.id.empty()) return half(k.secret.empty() ? k.token_name : k.secret_name, k.id_name);
  if (k.secret.empty()) return half(k.id_name, k.secret_name);
  return std::optional<sigv4::Credentials>(sigv4::Credentials{k.id, k.secret, k.token});
}

// What the shared file step found: credentials, nothing (skip to IMDS), or
// an error.
struct SharedFileSource {
  std::string path;
  std::string profile;
  bool profile_named = false;  // s3.profile or AWS_PROFILE, not the default
};

// The whole file; nullopt if it does not exist.
Result<std::optional<std::string>> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return Status::InvalidArgument("shared credentials file " + path + ": cannot open: " + std::strerror(errno));
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::InvalidArgument("shared credentials file " + path + ": cannot read: " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(text));
}

Result<std::optional<sigv4::Credentials>> FromSharedFile(const SharedFileSource& src) {
  FRESHET_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadWholeFile(src.path));
  if (!text) {
    if (!src.profile_named) return std::optional<sigv4::Credentials>();
    return Status::InvalidArgument("shared credentials file " + src.path + ": does not exist, but profile [" +
                                   src.profile + "] was asked for");
  }
  Result<sigv4::Credentials> creds = ParseSharedCredentials(*text, src.profile, src.path);
  if (creds.ok()) return std::optional<sigv4::Credentials>(std::move(creds).value());
  if (creds.status().code() == StatusCode::kNotFound && !src.profile_named) {
    return std::optional<sigv4::Credentials>();  // no [default]: go on to IMDS
  }
  return creds.status();
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<sigv4::Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                                  std::string_view file_name) {
  const std::string file(file_name);
  auto malformed = [&](size_t line, std::string_view why) {
    // The line itself is never quoted: it may hold a secret.
    return Status::InvalidArgument(file + ":" + std::to_string(line) + ": " + std::string(why));
  };
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM

  bool seen_section = false;
  bool in_profile = false;
  size_t profile_line = 0;      // line of the (first) [profile] header; 0 = not seen
  bool in_nested = false;       // indented lines under "key =" (nested config)
  std::string id, secret, token;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (in_nested && indented) continue;  // e.g. "s3 =\n  addressing_style = path"
    in_nested = false;

    if (line.front() == '[') {
      if (line.back() != ']') return malformed(line_no, "section header without a closing ']'");
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      if (name.empty()) return malformed(line_no, "empty section name");
      seen_section = true;
      in_profile = name == profile;
      if (in_profile && profile_line == 0) profile_line = line_no;
      continue;
    }
    // '=' or ':', whichever comes first, as Python's configparser reads it.
    size_t eq = line.find_first_of("=:");
    if (eq == std::string_view::npos) return malformed(line_no, "expected '[profile]' or 'key = value'");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key.empty()) return malformed(line_no, "a value without a key name");
    // A key before any section header belongs to no profile; botocore
    // rejects such a file, and so do we.
    if (!seen_section) return malformed(line_no, "'key = value' before any '[profile]' section");
    if (value.empty()) in_nested = true;
    if (!in_profile) continue;
    if (EqualsIgnoreCase(key, "aws_access_key_id")) {
      id = value;
    } else if (EqualsIgnoreCase(key, "aws_secret_access_key")) {
      secret = value;
    } else if (EqualsIgnoreCase(key, "aws_session_token")) {
      token = value;
    }
  }
  if (profile_line == 0) return Status::NotFound(file + ": no profile [" + std::string(profile) + "]");
  const std::string where = file + ":" + std::to_string(profile_line) + ": profile [" + std::string(profile) + "]";
  if (id.empty() && secret.empty()) {
    return Status::InvalidArgument(where +
                                   " has no aws_access_key_id / aws_secret_access_key (role_arn, sso and "
                                   "credential_process profiles are not supported)");
  }
  if (id.empty()) return Status::InvalidArgument(where + " has aws_secret_access_key but no aws_access_key_id");
  if (secret.empty()) return Status::InvalidArgument(where + " has aws_access_key_id but no aws_secret_access_key");
  return sigv4::Credentials{std::move(id), std::move(secret), std::move(token)};
}

Result<std::shared_ptr<CredentialsProvider>> MakeCredentialsChain(const S3Options& options, const EnvLookup& env,
                                                                  HttpClient* http) {
  // 1. The config file.
  FRESHET_ASSIGN_OR_RETURN(
      std::optional<sigv4::Credentials> config,
      FromTriple({"config file", "s3.access_key_id", "s3.secret_access_key", "s3.session_token",
                  options.access_key_id, options.secret_access_key, options.session_token}));
  if (config) return MakeStaticCredentials(std::move(*config), "config file");

  // 2. The environment.
  const std::string env_id = Env(env, "AWS_ACCESS_KEY_ID");
  const std::string env_secret = Env(env, "AWS_SECRET_ACCESS_KEY");
  const std::string env_token = Env(env, "AWS_SESSION_TOKEN");
  FRESHET_ASSIGN_OR_RETURN(std::optional<sigv4::Credentials> from_env,
                           FromTriple({"environment", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN", env_id, env_secret, env_token}));
  if (from_env) return MakeStaticCredentials(std::move(*from_env), "environment");

  // 3. The shared credentials file; skipped when there is no file to look
  // at (HOME unset and no AWS_SHARED_CREDENTIALS_FILE).
  SharedFileSource shared;
  shared.path = Env(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (shared.path.empty()) {
    std::string home = Env(env, "HOME");
    if (!home.empty()) shared.path = home + "/.aws/credentials";
  }
  shared.profile = options.profile;
  if (shared.profile.empty()) shared.profile = Env(env, "AWS_PROFILE");
  shared.profile_named = !shared.profile.empty();
  if (shared.profile.empty()) shared.profile = "default";
  if (!shared.path.empty()) {
    FRESHET_ASSIGN_OR_RETURN(std::optional<sigv4::Credentials> from_file, FromSharedFile(shared));
    if (from_file) {
      return MakeStaticCredentials(std::move(*from_file),
                                   "shared credentials file " + shared.path + " [" + shared.profile + "]");
    }
  } else if (shared.profile_named) {
    return Status::InvalidArgument("profile [" + shared.profile +
                                   "] was asked for, but there is no shared credentials file (HOME and "
                                   "AWS_SHARED_CREDENTIALS_FILE are unset)");
  }

  // 4. Instance metadata.
  std::string disabled = Env(env, "AWS_EC2_METADATA_DISABLED");
  if (EqualsIgnoreCase(Trim(disabled), "true")) {
    return Status::PermissionDenied(
        "no AWS credentials: not in config, environment or shared credentials file, and instance metadata is "
        "disabled (AWS_EC2_METADATA_DISABLED=true)");
  }
  ImdsOptions imds;
  std::string endpoint = Env(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (!endpoint.empty()) {
    Result<HttpUrl> url = ParseHttpUrl(endpoint);
    if (!url.ok()) return url.status().WithContext("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    imds.endpoint = url->endpoint;
  }
  if (http == nullptr) {
    return Status::PermissionDenied(
        "no AWS credentials: not in config, environment or shared credentials file, and no HTTP client to ask "
        "instance metadata at " + imds.endpoint.ToString());
  }
  return MakeImdsCredentials(http, std::move(imds));
}

}  // namespace freshet::s3
