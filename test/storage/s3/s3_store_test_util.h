// Helpers for the S3Store integration tests (s3_store_test.cc,
// s3_store_faults_test.cc, s3_cross_client_test.cc): opening stores on the
// test servers, bodies, and reading the store's counters. Header-only: the
// test build compiles only *_test.cc files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "config/options.h"
#include "storage/s3/credentials.h"
#include "storage/s3/s3_endpoint.h"
#include "storage/s3/s3_store.h"

namespace freshet::s3test {

// An empty AWS environment: nothing leaks in from the machine running the
// tests (AWS_PROFILE, AWS_ENDPOINT_URL, ...).
inline s3::EnvLookup NoEnv() {
  return [](std::string_view) { return std::optional<std::string>(); };
}

// Builds S3Store::Options for `uri` on `endpoint` (path-style, us-east-1,
// short timeouts fit for 127.0.0.1); `tweak` adjusts them.
inline Result<S3Store::Options> StoreOptions(const std::string& endpoint, std::string_view uri,
                                             const std::function<void(S3Store::Options&)>& tweak = nullptr) {
  FRESHET_ASSIGN_OR_RETURN(s3::S3Location location, s3::ParseS3Uri(uri));
  S3Options config;
  config.endpoint = endpoint;
  config.region = "us-east-1";
  config.addressing = "path";
  FRESHET_ASSIGN_OR_RETURN(s3::ResolvedEndpoint resolved, s3::ResolveEndpoint(config, NoEnv(), location.bucket));
  S3Store::Options o;
  o.location = std::move(location);
  o.endpoint = std::move(resolved);
  o.http.connect_timeout = std::chrono::seconds(5);
  o.http.request_timeout = std::chrono::seconds(30);
  o.retry.max_attempts = 3;
  o.retry.base_delay = std::chrono::milliseconds(5);
  o.retry.max_delay = std::chrono::milliseconds(50);
  o.jitter_seed = 42;
  if (tweak) tweak(o);
  return o;
}

inline sigv4::Credentials Creds(std::string key = "S3RVER", std::string secret = "S3RVER", std::string token = "") {
  return sigv4::Credentials{std::move(key), std::move(secret), std::move(token)};
}

// S3Store::Create with static credentials.
inline Result<std::unique_ptr<S3Store>> CreateStore(const std::string& endpoint, std::string_view uri,
                                                    const std::function<void(S3Store::Options&)>& tweak = nullptr,
                                                    sigv4::Credentials credentials = Creds()) {
  FRESHET_ASSIGN_OR_RETURN(S3Store::Options o, StoreOptions(endpoint, uri, tweak));
  return S3Store::Create(std::move(o), s3::MakeStaticCredentials(std::move(credentials), "test credentials"));
}

// `n` bytes of every value 0..255, reproducible from `seed`.
inline std::string RandomBody(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>((v >> (8 * j)) & 0xff);
  }
  return s;
}

inline const S3OperationStats& Op(const S3Stats& stats, const std::string& op) {
  static const S3OperationStats kNone;
  auto it = stats.operations.find(op);
  return it == stats.operations.end() ? kNone : it->second;
}

inline uint64_t Sum(const S3Stats& stats, uint64_t S3OperationStats::*field) {
  uint64_t n = 0;
  for (const auto& [name, op] : stats.operations) n += op.*field;
  return n;
}

// Attempts answered with an HTTP status in [lo, hi], over all operations.
inline uint64_t AttemptsWithStatus(const S3Stats& stats, int lo, int hi) {
  uint64_t n = 0;
  for (const auto& [name, op] : stats.operations)
    for (const auto& [status, count] : op.by_status)
      if (status >= lo && status <= hi) n += count;
  return n;
}

// One line per operation: "PutObject calls=200 attempts=243 retries=43
// errors=0 status{0:12 200:200 500:9 503:22}".
inline std::string FormatStats(const S3Stats& stats) {
  std::ostringstream out;
  for (const auto& [name, op] : stats.operations) {
    out << "  " << name << " calls=" << op.calls << " attempts=" << op.attempts << " retries=" << op.retries
        << " errors=" << op.errors << " confirmed=" << op.confirmed << " status{";
    bool first = true;
    for (const auto& [status, count] : op.by_status) {
      out << (first ? "" : " ") << status << ":" << count;
      first = false;
    }
    out << "}\n";
  }
  out << "  retry_budget_exhausted=" << stats.retry_budget_exhausted << " http: requests=" << stats.http.requests
      << " failures=" << stats.http.failures << " timeouts=" << stats.http.timeouts
      << " stale_reconnects=" << stats.http.stale_reconnects << " connections_opened=" << stats.http.connections_opened
      << "\n";
  return out.str();
}

}  // namespace freshet::s3test
