#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace freshet::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Header whitespace for canonicalisation: spaces, tabs, and the CR/LF of
// obsolete line folding ("value1\r\n  value2" signs as "value1 value2").
bool IsHeaderSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims and collapses every run of header whitespace into one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (IsHeaderSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string HexLower(const unsigned char* data, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kLowerHex[data[i] >> 4]);
    out.push_back(kLowerHex[data[i] & 0xF]);
  }
  return out;
}

// HMAC-SHA256; returns the 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC() only fails on allocation failure inside OpenSSL; a signer that
  // silently produced a wrong signature would be worse than stopping.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

// RFC 3986 section 5.2.4 dot-segment removal on a decoded absolute path,
// after collapsing runs of '/' (the generic suite's "//example//" ->
// "/example/"). A final "." or ".." leaves a trailing '/', as in the RFC.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    bool last = j == path.size();
    if (seg.empty()) {
      if (last) trailing_slash = true;
    } else if (seg == ".") {
      if (last) trailing_slash = true;
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      if (last) trailing_slash = true;
    } else {
      segments.push_back(seg);
      if (last) trailing_slash = false;
    }
    i = j + 1;
  }
  std::string out = "/";
  for (size_t k = 0; k < segments.size(); ++k) {
    if (k > 0) out.push_back('/');
    out.append(segments[k]);
  }
  if (trailing_slash && !segments.empty()) out.push_back('/');
  return out;
}

std::string CanonicalUri(std::string_view path, const SigningParams& params) {
  if (path.empty()) return "/";
  if (params.normalize_path) return EncodePath(NormalizePath(path), params.double_encode_path);
  return EncodePath(path, params.double_encode_path);
}

// Headers the signer generates itself; a copy in the request is ignored so
// that it is neither signed twice nor signed with a stale value.
bool IsGeneratedHeader(std::string_view lower_name, const Credentials& credentials) {
  return lower_name == "authorization" || lower_name == "x-amz-date" ||
         (!credentials.session_token.empty() && lower_name == "x-amz-security-token");
}

struct CanonicalHeaders {
  std::string block;           // "name:value\n" lines
  std::string signed_headers;  // "a;b;c"
};

// Groups headers by lowercase name (values in order, joined with ','),
// sorted by name.
CanonicalHeaders Canonicalize(const HttpHeaders& headers) {
  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = by_name.try_emplace(Lower(name));
    if (!inserted) it->second.push_back(',');
    it->second.append(CanonicalHeaderValue(value));
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : by_name) {
    out.block.append(name).append(":").append(value).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(name);
  }
  return out;
}

std::string Scope(const SigningParams& params, std::string_view amz_date) {
  std::string scope(amz_date.substr(0, 8));
  scope.append("/").append(params.region).append("/").append(params.service).append("/aws4_request");
  return scope;
}

std::string CanonicalRequest(std::string_view method, std::string_view uri, std::string_view query,
                             const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string out;
  out.append(method).append("\n");
  out.append(uri).append("\n");
  out.append(query).append("\n");
  out.append(headers.block).append("\n");
  out.append(headers.signed_headers).append("\n");
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(Sha256Hex(canonical_request));
  return out;
}

std::string Signature(const Credentials& credentials, const SigningParams& params, std::string_view amz_date,
                      std::string_view string_to_sign) {
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, amz_date.substr(0, 8));
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, params.service);
  key = HmacSha256(key, "aws4_request");
  std::string sig = HmacSha256(key, string_to_sign);
  return HexLower(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string EncodePath(std::string_view path, bool double_encode) {
  // Encoding with '/' kept is the same as encoding each segment.
  std::string once = UriEncode(path, /*encode_slash=*/false);
  return double_encode ? UriEncode(once, /*encode_slash=*/false) : once;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) std::abort();
  return HexLower(md, len);
}

std::string FormatAmzDate(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto days = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

HeaderSignature SignHeaders(const SignableRequest& request, const Credentials& credentials,
                            const SigningParams& params) {
  HeaderSignature out;
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string scope = Scope(params, amz_date);

  HttpHeaders to_sign;
  to_sign.reserve(request.headers.size() + 3);
  bool has_content_sha256 = false;
  for (const auto& header : request.headers) {
    std::string lower = Lower(header.first);
    if (IsGeneratedHeader(lower, credentials)) continue;
    if (lower == "x-amz-content-sha256") has_content_sha256 = true;
    to_sign.push_back(header);
  }
  out.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (params.add_content_sha256_header && !has_content_sha256) {
    out.headers_to_add.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  if (!credentials.session_token.empty() && params.sign_session_token) {
    out.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  to_sign.insert(to_sign.end(), out.headers_to_add.begin(), out.headers_to_add.end());
  if (!credentials.session_token.empty() && !params.sign_session_token) {
    out.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  CanonicalHeaders canonical = Canonicalize(to_sign);
  out.canonical_request = CanonicalRequest(request.method, CanonicalUri(request.path, params),
                                           CanonicalQuery(request.query), canonical, request.payload_hash);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = Signature(credentials, params, amz_date, out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + canonical.signed_headers + ", Signature=" + out.signature;
  out.headers_to_add.emplace_back("Authorization", out.authorization);
  return out;
}

QuerySignature Presign(const SignableRequest& request, const Credentials& credentials, const SigningParams& params,
                       std::chrono::seconds expires) {
  QuerySignature out;
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string scope = Scope(params, amz_date);

  HttpHeaders to_sign;
  to_sign.reserve(request.headers.size());
  for (const auto& header : request.headers) {
    if (!IsGeneratedHeader(Lower(header.first), credentials)) to_sign.push_back(header);
  }
  CanonicalHeaders canonical = Canonicalize(to_sign);

  std::vector<std::pair<std::string, std::string>> query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  query.emplace_back("X-Amz-SignedHeaders", canonical.signed_headers);
  const bool has_token = !credentials.session_token.empty();
  if (has_token && params.sign_session_token) query.emplace_back("X-Amz-Security-Token", credentials.session_token);

  out.canonical_request = CanonicalRequest(request.method, CanonicalUri(request.path, params), CanonicalQuery(query),
                                           canonical, request.payload_hash);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = Signature(credentials, params, amz_date, out.string_to_sign);

  if (has_token && !params.sign_session_token) query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  query.emplace_back("X-Amz-Signature", out.signature);
  out.query = CanonicalQuery(query);
  return out;
}

}  // namespace freshet::sigv4
