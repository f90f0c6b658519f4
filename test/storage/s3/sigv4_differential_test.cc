// Differential test: a few hundred seeded random requests signed by our
// SigV4 and by the AWS SDK for JavaScript's signer (@smithy/signature-v4,
// driven as @aws-sdk/client-s3 drives it; test/tools/sigv4_sign.js), which
// must agree on the canonical request, the string to sign, the signature,
// the Authorization header and added headers, or the presigned query.
//
// The requests stress what S3 keys and SDK callers produce: spaces, '+',
// '=', '%', sub-delimiters, multi-byte UTF-8, '//' runs, '.'/'..'
// segments and trailing '/'; query parameters with empty values, repeated
// names and odd bytes; headers with runs of spaces and tabs, repeated names
// in different cases; session tokens; signed bodies and UNSIGNED-PAYLOAD;
// header signing and presigning. Most are S3 requests (single encoding, no
// normalisation); some use the generic rules (double encoding, normalised
// path), which the SDK applies with uriEscapePath: true.
//
// Needs Node.js: without it the test fails (it does not skip), saying so.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "freshet/time.h"
#include "storage/s3/sigv4.h"
#include "testing/temp_dir.h"

namespace freshet::sigv4 {
namespace {

namespace fs = std::filesystem;

constexpr int kRequests = 400;
constexpr uint64_t kSeed = 0x5167'7634'2026'1122ULL;

std::string SourceDir() {
  if (const char* dir = std::getenv("FRESHET_SOURCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path().string();
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct CommandOutput {
  int status = -1;     // exit code, or -1 when it could not run / was signalled
  std::string output;  // stdout and stderr
};

CommandOutput RunShell(const std::string& command) {
  CommandOutput out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
  int st = ::pclose(p);
  out.status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
  return out;
}

// ---------------------------------------------------------------------------
// Random requests.

struct Case {
  int id = 0;
  bool s3 = true;  // false: generic rules (double encoding, normalisation)
  bool presign = false;
  bool unsigned_payload = false;
  std::string body;
  std::chrono::seconds expires{0};
  SignableRequest request;
  Credentials credentials;
  SigningParams params;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Case Make(int id) {
    Case c;
    c.id = id;
    c.s3 = Chance(80);
    c.presign = Chance(35);
    c.unsigned_payload = c.s3 && Chance(50);

    c.credentials.access_key_id = Pick({"AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE", "ASIAXYZ0123456789ABC"});
    c.credentials.secret_access_key = RandomToken(40);
    if (Chance(40)) c.credentials.session_token = RandomToken(16 + Below(200));

    c.params.region = Pick({"us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"});
    c.params.service = c.s3 ? "s3" : Pick({"service", "execute-api", "lambda"});
    c.params.time = FromUnixMillis(Pick<int64_t>({1440938160000, 1779458700000, 1779458700999, 946684799500}));
    c.params.double_encode_path = !c.s3;
    c.params.normalize_path = !c.s3;
    c.params.add_content_sha256_header = c.s3 || Chance(50);
    c.expires = std::chrono::seconds(1 + Below(604800));

    SignableRequest& r = c.request;
    r.method = Pick({"GET", "PUT", "HEAD", "DELETE", "POST", "GET", "PUT"});
    r.path = c.s3 ? S3Path() : GenericPath();
    int nq = static_cast<int>(Below(5));
    for (int i = 0; i < nq; ++i) {
      std::string name = QueryName();
      r.query.emplace_back(name, QueryValue());
      if (Chance(25)) r.query.emplace_back(name, Chance(30) ? r.query.back().second : QueryValue());
    }
    r.headers.emplace_back(Pick({"host", "Host", "HOST"}),
                           Pick({"bucket.s3.amazonaws.com", "my.bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000",
                                 "[::1]:4566", "example.amazonaws.com"}));
    int nh = static_cast<int>(Below(5));
    for (int i = 0; i < nh; ++i) AddHeader(&r.headers);

    if (!c.unsigned_payload) {
      c.body = Chance(30) ? "" : Text(1 + Below(64));
      r.payload_hash = Sha256Hex(c.body);
    } else {
      r.payload_hash = std::string(kUnsignedPayload);
    }
    // Sometimes the caller sets x-amz-content-sha256 itself (header signing
    // only: the SDK's presigner takes the hash from the request).
    if (c.s3 && !c.presign && Chance(15)) {
      r.headers.emplace_back(Pick({"x-amz-content-sha256", "X-Amz-Content-Sha256"}), r.payload_hash);
    }
    std::shuffle(r.headers.begin(), r.headers.end(), rng_);
    return c;
  }

 private:
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  template <typename T = const char*>
  T Pick(std::initializer_list<T> items) {
    return *(items.begin() + Below(items.size()));
  }

  std::string RandomToken(size_t n) {
    static constexpr std::string_view kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(kChars[Below(kChars.size())]);
    return s;
  }

  // Pieces of keys, names and values: unreserved, reserved, '%', spaces,
  // controls and multi-byte UTF-8 (2, 3 and 4 bytes).
  std::string Piece() {
    return Pick<std::string>({"a",
                              "Z",
                              "0",
                              "key",
                              "-",
                              "_",
                              ".",
                              "~",
                              " ",
                              "  ",
                              "+",
                              "=",
                              "%",
                              "%20",
                              "%2F",
                              "!",
                              "*",
                              "(",
                              ")",
                              "'",
                              "$",
                              "&",
                              ",",
                              ";",
                              ":",
                              "@",
                              "?",
                              "#",
                              "[",
                              "]",
                              "\"",
                              "<",
                              ">",
                              "\\",
                              "^",
                              "`",
                              "{",
                              "|",
                              "}",
                              "\t",
                              "\x7f",
                              "\xc3\xa9",
                              "\xc3\xbc",
                              "\xe6\x97\xa5\xe6\x9c\xac",
                              "\xe2\x82\xac",
                              "\xf0\x9f\x98\x80",
                              "photo.jpg",
                              "2026-11-22",
                              "dt=2026"});
  }

  std::string Text(size_t pieces) {
    std::string s;
    for (size_t i = 0; i < pieces; ++i) s += Piece();
    return s;
  }

  std::string Segment() {
    switch (Below(10)) {
      case 0:
        return "";  // gives '//' runs
      case 1:
        return Pick<std::string>({".", ".."});
      default:
        return Text(1 + Below(4));
    }
  }

  // "/bucket/key" (path style) or "/key" (virtual-host style), as S3 keys
  // come: anything, including '//' runs, dot segments and a trailing '/'.
  std::string S3Path() {
    std::string path = Chance(50) ? "/my-bucket" : "";
    int n = static_cast<int>(Below(6));
    for (int i = 0; i < n; ++i) path += "/" + Segment();
    if (path.empty() || Chance(20)) path += "/";
    return path;
  }

  // The generic rules normalise; RFC 3986 and the SDK differ only on a
  // final "." or ".." segment ("/a/.." is "/" vs "/a"... "/a/" vs "/a"),
  // which these paths therefore avoid.
  std::string GenericPath() {
    std::string path;
    int n = static_cast<int>(Below(6));
    for (int i = 0; i < n; ++i) path += "/" + Segment();
    std::string last;
    do {
      last = Text(1 + Below(3));
    } while (last == "." || last == "..");
    path += Chance(30) ? "/" : "/" + last;
    return path;
  }

  std::string QueryName() {
    if (Chance(10)) return "";
    if (Chance(40)) {
      return Pick<std::string>({"uploads", "partNumber", "uploadId", "prefix", "delimiter", "list-type",
                                "continuation-token", "max-keys", "versionId", "x-id", "Param", "param"});
    }
    return Text(1 + Below(3));
  }

  std::string QueryValue() {
    if (Chance(30)) return "";
    return Text(1 + Below(4));
  }

  // Header values with leading, trailing and inner runs of spaces and tabs.
  std::string HeaderValue(bool trimmed) {
    std::string v;
    int n = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < n; ++i) {
      if (i > 0) v += Pick<std::string>({" ", "  ", "\t", " \t ", "   "});
      v += Pick<std::string>({"value", "bytes=0-99", "text/plain; charset=utf-8", "\"etag\"", "a,b", "x=y",
                              "\xc3\xa9t\xc3\xa9", "1", "STANDARD", "*"});
    }
    if (!trimmed) {
      if (Chance(50)) v = Pick<std::string>({" ", "  ", "\t"}) + v;
      if (Chance(50)) v += Pick<std::string>({" ", "   ", "\t "});
    }
    return v;
  }

  void AddHeader(HttpHeaders* headers) {
    std::string name = Pick<std::string>({"Content-Type", "content-type", "Range", "If-Match", "If-None-Match",
                                          "Content-MD5", "x-amz-meta-Author", "X-Amz-Meta-Key", "X-Amz-Storage-Class",
                                          "x-amz-checksum-crc32", "X-Custom-Header", "Content-Encoding"});
    for (const auto& h : *headers) {
      if (Lower(h.first) == Lower(name)) return;  // repeats are made below, trimmed
    }
    // A repeated name (perhaps in another case): the SDK sees one value
    // joined with ','; both sides must agree on each value's trimming, so
    // repeated values carry no outer whitespace.
    bool repeat = Chance(30);
    headers->emplace_back(name, HeaderValue(repeat));
    if (repeat) headers->emplace_back(Chance(50) ? name : Upper(name), HeaderValue(true));
  }

  static std::string Lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  static std::string Upper(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  }

  std::mt19937_64 rng_;
};

// For repeated header names the first value carries no outer whitespace
// either (see AddHeader); a single header may.
bool RepeatedNamesAreTrimmed(const HttpHeaders& headers) {
  auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  for (size_t i = 0; i < headers.size(); ++i) {
    for (size_t j = 0; j < headers.size(); ++j) {
      if (i == j || lower(headers[i].first) != lower(headers[j].first)) continue;
      const std::string& v = headers[i].second;
      if (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t')) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// JSON in and out.

void WritePairs(rapidjson::Writer<rapidjson::StringBuffer>* w,
                const std::vector<std::pair<std::string, std::string>>& v) {
  w->StartArray();
  for (const auto& [a, b] : v) {
    w->StartArray();
    w->String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
    w->String(b.data(), static_cast<rapidjson::SizeType>(b.size()));
    w->EndArray();
  }
  w->EndArray();
}

std::string ToJson(const std::vector<Case>& cases) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("requests");
  w.StartArray();
  for (const Case& c : cases) {
    w.StartObject();
    w.Key("id");
    w.Int(c.id);
    w.Key("mode");
    w.String(c.s3 ? "s3" : "generic");
    w.Key("method");
    w.String(c.request.method);
    w.Key("path");
    w.String(c.request.path);
    w.Key("query");
    WritePairs(&w, c.request.query);
    w.Key("headers");
    WritePairs(&w, c.request.headers);
    w.Key("body");
    if (c.unsigned_payload) {
      w.Null();
    } else {
      w.String(c.body);
    }
    w.Key("presign");
    w.Bool(c.presign);
    w.Key("expires");
    w.Int64(c.expires.count());
    w.Key("region");
    w.String(c.params.region);
    w.Key("service");
    w.String(c.params.service);
    w.Key("access_key_id");
    w.String(c.credentials.access_key_id);
    w.Key("secret_access_key");
    w.String(c.credentials.secret_access_key);
    w.Key("session_token");
    w.String(c.credentials.session_token);
    w.Key("time_ms");
    w.Int64(ToUnixMillis(c.params.time));
    w.Key("apply_checksum");
    w.Bool(c.params.add_content_sha256_header);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string Str(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject() || !obj.HasMember(key) || !obj[key].IsString()) return "<missing " + std::string(key) + ">";
  return std::string(obj[key].GetString(), obj[key].GetStringLength());
}

std::vector<std::string> SplitQuery(std::string_view qs) {
  std::vector<std::string> out;
  for (size_t i = 0; i <= qs.size();) {
    size_t j = qs.find('&', i);
    if (j == std::string_view::npos) j = qs.size();
    if (j > i) out.emplace_back(qs.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string Describe(const Case& c) {
  std::ostringstream s;
  s << "request " << c.id << " (" << (c.s3 ? "s3" : "generic") << ", " << (c.presign ? "presign" : "header") << ", "
    << (c.unsigned_payload ? "UNSIGNED-PAYLOAD" : "signed body")
    << (c.credentials.session_token.empty() ? "" : ", token") << "): " << c.request.method << " "
    << ::testing::PrintToString(c.request.path) << " query=" << ::testing::PrintToString(c.request.query)
    << " headers=" << ::testing::PrintToString(c.request.headers);
  return s.str();
}

// ---------------------------------------------------------------------------

TEST(Sigv4Differential, AgreesWithAwsSdkForJavaScript) {
  const std::string root = SourceDir();
  CommandOutput node = RunShell("node --version");
  ASSERT_EQ(node.status, 0) << "Node.js is required for the SigV4 differential test and `node --version` failed ("
                            << node.output << "). Install Node.js >= 18 and npm (scripts/install-deps.sh).";
  CommandOutput install = RunShell(ShellQuote(root + "/scripts/install-npm-tools.sh"));
  ASSERT_EQ(install.status, 0) << "scripts/install-npm-tools.sh failed:\n" << install.output;

  Generator gen(kSeed);
  std::vector<Case> cases;
  for (int i = 0; i < kRequests; ++i) {
    cases.push_back(gen.Make(i));
    ASSERT_TRUE(RepeatedNamesAreTrimmed(cases.back().request.headers)) << Describe(cases.back());
  }

  testing::TempDir dir("sigv4-differential");
  const std::string in_path = dir.Join("requests.json"), out_path = dir.Join("results.json");
  {
    std::ofstream f(in_path, std::ios::binary);
    f << ToJson(cases);
    ASSERT_TRUE(f.good()) << in_path;
  }
  CommandOutput signer = RunShell("node " + ShellQuote(root + "/test/tools/sigv4_sign.js") + " " + ShellQuote(in_path) +
                                  " " + ShellQuote(out_path));
  ASSERT_EQ(signer.status, 0) << "test/tools/sigv4_sign.js failed:\n" << signer.output;

  std::ifstream f(out_path, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  ASSERT_FALSE(doc.HasParseError()) << out_path;
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("results") && doc["results"].IsArray());
  const auto& results = doc["results"];
  ASSERT_EQ(results.Size(), cases.size());

  int compared = 0, failures = 0, presigned = 0, s3 = 0, unsigned_payload = 0, tokens = 0;
  for (const Case& c : cases) {
    const rapidjson::Value& js = results[c.id];
    ASSERT_EQ(js["id"].GetInt(), c.id);
    SCOPED_TRACE(Describe(c));
    const int failures_before = ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();

    std::string canonical_request, string_to_sign, signature;
    if (c.presign) {
      QuerySignature q = Presign(c.request, c.credentials, c.params, c.expires);
      canonical_request = q.canonical_request;
      string_to_sign = q.string_to_sign;
      signature = q.signature;
      // Same parameters as the SDK would send; ours in canonical order.
      std::vector<std::string> ours = SplitQuery(q.query), theirs = SplitQuery(Str(js, "query"));
      EXPECT_TRUE(std::is_sorted(ours.begin(), ours.end(), [](const std::string& a, const std::string& b) {
        std::string_view an(a), bn(b);
        an = an.substr(0, an.find('='));
        bn = bn.substr(0, bn.find('='));
        return an != bn ? an < bn : a < b;
      })) << q.query;
      std::sort(ours.begin(), ours.end());
      std::sort(theirs.begin(), theirs.end());
      EXPECT_EQ(ours, theirs) << "presigned query";
      ++presigned;
    } else {
      HeaderSignature h = SignHeaders(c.request, c.credentials, c.params);
      canonical_request = h.canonical_request;
      string_to_sign = h.string_to_sign;
      signature = h.signature;
      EXPECT_EQ(h.authorization, Str(js, "authorization"));
      const auto& js_headers = js["headers"];
      for (const auto& [name, value] : h.headers_to_add) {
        std::string lower = name;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        EXPECT_EQ(value, Str(js_headers, lower.c_str())) << "header " << name;
      }
    }
    EXPECT_EQ(canonical_request, Str(js, "canonical_request"));
    EXPECT_EQ(string_to_sign, Str(js, "string_to_sign"));
    EXPECT_EQ(signature, Str(js, "signature"));

    ++compared;
    s3 += c.s3;
    unsigned_payload += c.unsigned_payload;
    tokens += !c.credentials.session_token.empty();
    if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() != failures_before) {
      if (++failures >= 10) FAIL() << "stopping after 10 mismatching requests";
    }
  }
  std::cout << "[ sigv4 differential ] compared " << compared << " requests with @smithy/signature-v4 ("
            << compared - presigned << " header-signed, " << presigned << " presigned; " << s3 << " S3, "
            << compared - s3 << " generic; " << unsigned_payload << " UNSIGNED-PAYLOAD; " << tokens
            << " with a session token); " << failures << " mismatched\n";
  RecordProperty("compared", compared);
  EXPECT_EQ(compared, kRequests);
  EXPECT_GE(kRequests, 300);
}

}  // namespace
}  // namespace freshet::sigv4
