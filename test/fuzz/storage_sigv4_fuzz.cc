// Fuzzes SigV4 (storage/s3/sigv4.h). Any bytes become a request (method,
// path, query parameters, headers, session token) that is signed both ways
// (Authorization header and presigned query) in S3 mode or in the generic
// mode, and must not crash. Properties checked:
// - UriEncode output holds only unreserved characters and uppercase %XX
//   (and '/' when kept), keeps the number of '/', and decodes back to its
//   input; EncodePath keeps the number of '/' (single and double encoding).
// - Signatures are 64 lowercase hex digits; the string to sign ends with
//   the canonical request's SHA-256. (Determinism is sigv4_test's: signing
//   each input twice here halved the executions a campaign reaches.)
// - The canonical request starts with the method and the canonical URI;
//   in S3 mode that URI is EncodePath(path) (never normalised), in the
//   generic mode it has no empty, "." or ".." segment. Canonical header
//   values hold no CR, LF or tab and no leading, trailing or double space.
// - The presigned query is in canonical order and carries the signature.
//
// Input: byte 0 holds flags (bit 0 session token, 1 unsigned payload,
// 2 token not signed, 3 x-amz-content-sha256 in the generic mode, 4 the
// generic mode instead of S3's, 5-7 the signing day); the rest is split on NUL into method, path, token, then pieces
// starting with 'q' ("name=value" query parameter) or 'h' ("name:value"
// header); other pieces are ignored.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/time.h"
#include "storage/s3/sigv4.h"

namespace {

namespace sigv4 = freshet::sigv4;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lowercase hex is not what UriEncode writes
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

size_t CountSlashes(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '/';
  return n;
}

// Checks the UriEncode alphabet and returns the decoded string.
std::string CheckEncodedAndDecode(std::string_view encoded, bool slash_allowed) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      Check(i + 2 < encoded.size());
      int hi = HexValue(encoded[i + 1]), lo = HexValue(encoded[i + 2]);
      Check(hi >= 0 && lo >= 0);
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      Check(IsUnreserved(c) || (slash_allowed && c == '/'));
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i <= s.size();) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The canonical request's lines up to the headers: method, URI, query,
// then one line per canonical header until the empty line. Skipped when the
// method or a header name holds a line break or a header name a ':' (the
// lines are then ambiguous; the other properties are still checked).
// `query` is the canonical query expected on the third line.
void CheckCanonicalRequest(const std::string& creq, const sigv4::SignableRequest& request,
                           const sigv4::SigningParams& params, std::string_view query) {
  for (const auto& [name, value] : request.headers) {
    if (name.find_first_of("\r\n:") != std::string::npos) return;
  }
  if (request.method.find('\n') != std::string::npos) return;
  std::vector<std::string_view> lines = Split(creq, '\n');
  Check(lines.size() >= 6);
  Check(lines[0] == request.method);
  std::string_view uri = lines[1];
  CheckEncodedAndDecode(uri, /*slash_allowed=*/true);
  Check(!uri.empty());
  // The path's leading '/' is the caller's (REQUIRES); normalising adds it.
  if (params.normalize_path || request.path.empty() || request.path[0] == '/') Check(uri[0] == '/');
  Check(lines[2] == query);
  if (!params.normalize_path && !params.double_encode_path && !request.path.empty()) {
    Check(uri == sigv4::EncodePath(request.path));  // S3: as written
  }
  if (params.normalize_path) {
    std::vector<std::string_view> segments = Split(uri.substr(1), '/');
    for (size_t i = 0; i < segments.size(); ++i) {
      // Only the last segment may be empty (a trailing '/', or "/" itself).
      Check(!segments[i].empty() || i + 1 == segments.size());
      Check(segments[i] != "." && segments[i] != "..");
    }
  }
  for (size_t i = 3; i < lines.size() && !lines[i].empty(); ++i) {
    std::string_view line = lines[i];
    size_t colon = line.find(':');
    Check(colon != std::string_view::npos);
    std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    Check(Lower(name) == name);
    Check(value.find_first_of("\r\t") == std::string_view::npos);
    Check(value.empty() || (value.front() != ' ' && value.back() != ' '));
    Check(value.find("  ") == std::string_view::npos);
  }
}

void SignBothWays(const sigv4::SignableRequest& request, const sigv4::Credentials& credentials,
                  const sigv4::SigningParams& params) {
  sigv4::HeaderSignature h = sigv4::SignHeaders(request, credentials, params);
  Check(IsLowerHex64(h.signature));
  Check(h.string_to_sign.ends_with("\n" + sigv4::Sha256Hex(h.canonical_request)));
  Check(h.authorization.ends_with("Signature=" + h.signature));
  Check(!h.headers_to_add.empty() && h.headers_to_add.back().first == "Authorization");
  CheckCanonicalRequest(h.canonical_request, request, params, sigv4::CanonicalQuery(request.query));
  Check(Split(h.canonical_request, '\n').size() >= 6);

  sigv4::QuerySignature q = sigv4::Presign(request, credentials, params, std::chrono::seconds(900));
  Check(IsLowerHex64(q.signature));
  Check(q.string_to_sign.ends_with("\n" + sigv4::Sha256Hex(q.canonical_request)));
  Check(q.query.find("X-Amz-Signature=" + q.signature) != std::string::npos);
  // Canonical order: by encoded name, then value.
  std::vector<std::string_view> params_list = Split(q.query, '&');
  for (size_t i = 1; i < params_list.size(); ++i) {
    std::string_view a = params_list[i - 1], b = params_list[i];
    std::string_view an = a.substr(0, a.find('=')), bn = b.substr(0, b.find('='));
    Check(an < bn || (an == bn && a <= b));
    CheckEncodedAndDecode(an, false);
  }
  // The signed query is the sent one without the signature.
  std::string signed_query = q.query;
  std::string sig_param = "X-Amz-Signature=" + q.signature;
  size_t at = signed_query.find(sig_param);
  signed_query.erase(at, sig_param.size() + (at + sig_param.size() < signed_query.size() ? 1 : 0));
  if (!signed_query.empty() && signed_query.back() == '&') signed_query.pop_back();
  if (params.sign_session_token || credentials.session_token.empty()) {
    CheckCanonicalRequest(q.canonical_request, request, params, signed_query);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  // Encoding properties on the raw bytes.
  for (bool encode_slash : {true, false}) {
    std::string e = sigv4::UriEncode(text, encode_slash);
    Check(CheckEncodedAndDecode(e, !encode_slash) == text);
    Check(CountSlashes(e) == (encode_slash ? 0 : CountSlashes(text)));
  }
  Check(CountSlashes(sigv4::EncodePath(text)) == CountSlashes(text));
  Check(CountSlashes(sigv4::EncodePath(text, /*double_encode=*/true)) == CountSlashes(text));
  Check(CheckEncodedAndDecode(CheckEncodedAndDecode(sigv4::EncodePath(text, true), true), true) == text);

  std::vector<std::string_view> pieces = Split(text, '\0');
  sigv4::SignableRequest request;
  request.method = pieces.size() > 0 ? std::string(pieces[0]) : "GET";
  request.path = pieces.size() > 1 ? std::string(pieces[1]) : "/";
  sigv4::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  if ((flags & 1) && pieces.size() > 2) credentials.session_token = std::string(pieces[2]);
  bool has_host = false;
  for (size_t i = 3; i < pieces.size(); ++i) {
    std::string_view p = pieces[i];
    if (p.empty()) continue;
    std::string_view body = p.substr(1);
    if (p[0] == 'q') {
      size_t eq = body.find('=');
      request.query.emplace_back(std::string(body.substr(0, eq)),
                                 eq == std::string_view::npos ? "" : std::string(body.substr(eq + 1)));
    } else if (p[0] == 'h') {
      size_t colon = body.find(':');
      std::string name(body.substr(0, colon));
      has_host = has_host || Lower(name) == "host";
      request.headers.emplace_back(name, colon == std::string_view::npos ? "" : std::string(body.substr(colon + 1)));
    }
  }
  if (!has_host) request.headers.emplace_back("host", "bucket.s3.amazonaws.com");
  request.payload_hash = (flags & 2) ? std::string(sigv4::kUnsignedPayload) : sigv4::Sha256Hex(text);


  // One mode per input (a flag bit), so an execution signs four times, not
  // eight; the fuzzer reaches both modes through that bit.
  sigv4::SigningParams params;
  params.region = "us-east-1";
  params.time = freshet::FromUnixMillis(1779458700000 + (flags >> 5) * 86'400'000LL);
  params.sign_session_token = !(flags & 4);
  if (flags & 16) {
    params.service = "service";
    params.double_encode_path = true;
    params.normalize_path = true;
    params.add_content_sha256_header = (flags & 8) != 0;
  }
  SignBothWays(request, credentials, params);
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  using namespace std::string_literals;
  return {
      "\x00GET\0/bucket/my key+1.txt\0\0qprefix=a b\0quploads\0hRange: bytes=0-9\0hHost:b.s3.amazonaws.com"s,
      "\x13PUT\0/b/a/./c//d/../\0AQoDYXdz+/==\0qx=\0qx=\xe6\x97\xa5\0hX-Amz-Meta-A:  one   two\t\0hx-amz-meta-a:3"s,
      "\x1dGET\0//example//\0tok\0hMy-Header1:value1\n  value2\n     value3\0hX-Amz-Date:20150830T123600Z"s,
      "\x0e" "DELETE\0/\xf0\x9f\x98\x80/%2F/~!*'()\0\0q=\0q%=%\0hX-Amz-Content-Sha256:UNSIGNED-PAYLOAD"s,
      "\x10POST\0\0\0h:\0h\0q"s,
  };
}
