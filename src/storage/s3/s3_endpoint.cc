#include "storage/s3/s3_endpoint.h"

#include <cctype>

namespace freshet::s3 {
namespace {

std::string FirstSet(std::initializer_list<std::string_view> names, const EnvLookup& env) {
  for (std::string_view n : names) {
    std::optional<std::string> v = env(n);
    if (v && !v->empty()) return *v;
  }
  return "";
}

// A bucket name usable as a DNS label under the endpoint's host.
bool DnsCompatible(std::string_view bucket, bool tls) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    bool ok = std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
              c == '-' || (c == '.' && !tls);  // dots break the wildcard certificate
    if (!ok) return false;
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

}  // namespace

Result<S3Location> ParseS3Uri(std::string_view uri) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("store URI '" + std::string(uri) + "': " + std::string(why));
  };
  if (!uri.starts_with("s3://")) return bad("expected s3://bucket/prefix");
  std::string_view rest = uri.substr(5);
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (loc.bucket.empty()) return bad("no bucket; expected s3://bucket/prefix");
  for (char c : loc.bucket) {
    if (c == '?' || c == '#' || c == '@' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        static_cast<unsigned char>(c) < 0x20)
      return bad("bucket name '" + loc.bucket + "' has a character S3 does not allow");
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    if (!prefix.empty()) {
      size_t start = 0;
      while (start <= prefix.size()) {
        size_t end = prefix.find('/', start);
        if (end == std::string_view::npos) end = prefix.size();
        std::string_view seg = prefix.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..")
          return bad("prefix has an empty, '.' or '..' segment");
        start = end + 1;
      }
      loc.prefix = std::string(prefix) + "/";
    }
  }
  return loc;
}

Result<ResolvedEndpoint> ResolveEndpoint(const S3Options& options, const EnvLookup& env,
                                         std::string_view bucket) {
  ResolvedEndpoint r;
  r.region = !options.region.empty() ? options.region : FirstSet({"AWS_REGION", "AWS_DEFAULT_REGION"}, env);
  if (r.region.empty()) r.region = "us-east-1";
  std::string url = options.endpoint;
  std::string origin = "s3.endpoint";
  if (url.empty()) {
    for (std::string_view n : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
      std::optional<std::string> v = env(n);
      if (v && !v->empty()) {
        url = *v;
        origin = std::string(n);
        break;
      }
    }
  }
  if (url.empty()) {
    url = "https://s3." + r.region + ".amazonaws.com";
    origin = "the default AWS endpoint";
  }
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status().WithContext(origin);
  r.base = parsed->endpoint;
  std::string_view target = parsed->target;
  if (target.find_first_of("?#") != std::string_view::npos)
    return Status::InvalidArgument(origin + " '" + url + "': an endpoint cannot have a query");
  while (target.ends_with('/')) target.remove_suffix(1);
  r.base_path = std::string(target);
  r.is_aws = r.base.host.ends_with(".amazonaws.com");
  if (options.addressing == "virtual") {
    r.virtual_hosted = true;
  } else if (options.addressing == "path") {
    r.virtual_hosted = false;
  } else {
    r.virtual_hosted = r.is_aws && DnsCompatible(bucket, r.base.tls);
  }
  return r;
}

Addressed Address(const ResolvedEndpoint& endpoint, std::string_view bucket, std::string_view full_key) {
  Addressed a;
  a.endpoint = endpoint.base;
  if (endpoint.virtual_hosted) {
    a.endpoint.host = std::string(bucket) + "." + endpoint.base.host;
    a.path = endpoint.base_path + "/" + std::string(full_key);
  } else {
    a.path = endpoint.base_path + "/" + std::string(bucket);
    if (!full_key.empty()) a.path += "/" + std::string(full_key);
  }
  return a;
}

}  // namespace freshet::s3
