// An ObjectStore on Amazon S3 (or any S3-compatible server), through
// freshet's own HTTP client (storage/http) with SigV4 signing.
//
// - Keys map to "<prefix><key>" in the bucket of s3://bucket/prefix.
// - Every request is signed afresh per attempt (time, credentials), with
//   its payload's SHA-256 in x-amz-content-sha256 and, for bodies, a
//   Content-MD5 integrity header the server checks.
// - Retries: each HTTP request is retried per RetryOptions (exponential
//   backoff, full jitter, a per-store retry budget) when the failure is
//   transient: 5xx, throttling codes (SlowDown ...), RequestTimeout,
//   connection resets, timeouts, truncated bodies, and an <Error> inside a
//   200 CompleteMultipartUpload. Never other 4xx.
// - Get checks what arrived: the byte count against Content-Length /
//   Content-Range, and for whole single-part objects the body's MD5 against
//   the ETag (a mismatch is retried, then kDataLoss). Put checks the
//   returned ETag against the body's MD5. Under SSE-KMS and SSE-C the ETag
//   is not the MD5 (the response's x-amz-server-side-encryption headers
//   say so): those checks are skipped and counted (unverified_etags); S3
//   still verifies every PUT's Content-MD5, and a conditional create whose
//   response was lost cannot be matched to our bytes by its ETag, so it is
//   reported as the conflict it may be (kAlreadyExists).
// - Put bodies above multipart_threshold go up as a multipart upload (parts
//   in parallel, each retried on its own), aborted on failure.
// - Requests that are not safely repeatable — CompleteMultipartUpload (many
//   S3-compatible servers answer a repeat with NoSuchUpload or a 500) and
//   PutObject with If-None-Match or If-Match (a repeat gets 412) — are checked with a
//   HEAD once an attempt has ended without a whole response (reset,
//   truncated, timed out: the server may have applied it): before each
//   further retry and before a final error. An object of the expected size
//   and ETag (the body's MD5, or for multipart the MD5 of the part MD5s with
//   "-<parts>") counts as this request's success. Identical bytes written by
//   someone else in that window count too; an upload whose Complete was
//   never applied but whose bytes were already there is left to the
//   bucket's lifecycle rule, as is one created by a CreateMultipartUpload
//   whose response was lost (the retry creates another).
// - Error mapping: 404 NoSuchKey -> kNotFound; NoSuchBucket ->
//   kFailedPrecondition (a missing bucket is a configuration problem, never
//   "empty"); 403 -> kPermissionDenied; 412 on If-None-Match ->
//   kAlreadyExists; exhausted retries -> kUnavailable / kDeadlineExceeded;
//   other 4xx -> kInvalidArgument or kFailedPrecondition. Messages name the
//   operation, the s3:// key, the HTTP status and S3's error code and
//   message, never credentials.
// - Callbacks run on the HTTP client's strand of its IoLoop (the daemon's
//   or a private one). Destroying the store completes every pending
//   operation with kCancelled (REQUIRES: not on a loop thread).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "config/options.h"
#include "storage/http/http_client.h"
#include "storage/object_store.h"
#include "storage/s3/credentials.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_endpoint.h"
#include "storage/s3/sse.h"

namespace freshet {

// Request counters by S3 operation ("GetObject", "PutObject",
// "ListObjectsV2", "HeadObject", "DeleteObject", "CreateMultipartUpload",
// "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload").
struct S3OperationStats {
  uint64_t calls = 0;     // logical requests
  uint64_t attempts = 0;  // HTTP requests sent (calls + retries)
  uint64_t retries = 0;
  uint64_t errors = 0;    // calls that ended in an error (after retries)
  // Calls that ended OK without a successful attempt: a HEAD showed that an
  // attempt whose response was lost had been applied (see above).
  uint64_t confirmed = 0;
  // Attempts by HTTP status; 0 = no response (reset, timeout, refused).
  std::map<int, uint64_t> by_status;
};

struct S3Stats {
  std::map<std::string, S3OperationStats> operations;
  uint64_t retry_budget_exhausted = 0;  // retryable failures returned because the budget was empty
  uint64_t bytes_uploaded = 0;          // request bodies of successful attempts
  uint64_t bytes_downloaded = 0;        // GET bodies of successful attempts
  // Whole-object GETs, PUTs and parts whose ETag could not vouch for the
  // bytes because the object is SSE-KMS or SSE-C encrypted (its ETag is not
  // the MD5); PUTs still had S3 check Content-MD5.
  uint64_t unverified_etags = 0;
  HttpClient::Stats http;
};

class S3Store final : public ObjectStore {
 public:
  struct Options {
    s3::S3Location location;
    s3::ResolvedEndpoint endpoint;
    HttpClient::Options http;
    s3::RetryOptions retry;
    uint64_t multipart_threshold = 64ull << 20;
    uint64_t multipart_part_size = 16ull << 20;
    uint32_t multipart_parallelism = 4;  // parts in flight per upload
    s3::Sse sse;                         // encryption asked for (storage/s3/sse.h)
    // Signing time; default the system clock. Tests pin it.
    std::function<TimePoint()> now;
    uint64_t jitter_seed = 0;  // 0 = random
  };

  // Opens s3://bucket/prefix with config `options` and the AWS environment
  // `env` (credentials chain, region, endpoint). Does no network I/O except
  // what the credentials chain needs later, on first use.
  // `loop`: the event loop the HTTP client runs on (must outlive the
  // store); nullptr = a private one-thread loop.
  static Result<std::unique_ptr<S3Store>> Open(std::string_view uri, const S3Options& options,
                                               const s3::EnvLookup& env, IoLoop* loop = nullptr);
  // With a resolved configuration and a ready credentials provider (which
  // may use `http`'s client: pass nullptr provider to build the default
  // chain from `config`/`env`).
  static Result<std::unique_ptr<S3Store>> Create(Options options,
                                                 std::shared_ptr<s3::CredentialsProvider> credentials,
                                                 IoLoop* loop = nullptr);

  ~S3Store() override;

  void List(ListRequest req, StoreCallback<ListPage> done) override;
  void Get(GetRequest req, StoreCallback<GetResult> done) override;
  void Head(std::string key, StoreCallback<ObjectInfo> done) override;
  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override;
  void Delete(std::string key, StoreCallback<Unit> done) override;
  std::string Describe() const override;

  S3Stats stats() const;
  const Options& options() const { return options_; }

  struct Call;       // one logical request and its attempts (s3_store.cc)
  struct Multipart;  // one multipart upload in flight

 private:
  S3Store(Options options, std::unique_ptr<HttpClient> http);

  void Start(std::shared_ptr<Call> call);
  void Attempt(std::shared_ptr<Call> call);
  void OnCredentials(std::shared_ptr<Call> call, Result<sigv4::Credentials> creds);
  void OnResponse(std::shared_ptr<Call> call, Result<HttpResponse> response);
  void AfterFailure(std::shared_ptr<Call> call, Status status, bool after_timeout, bool final);
  void RetryOrFinish(std::shared_ptr<Call> call, Status status, bool after_timeout, bool final);
  void Finish(std::shared_ptr<Call> call, Status status);
  void PutMultipart(PutRequest req, StoreCallback<ObjectInfo> done);
  void NextParts(std::shared_ptr<Multipart> mp);
  void CompleteMultipart(std::shared_ptr<Multipart> mp);
  void AbortMultipart(std::shared_ptr<Multipart> mp, Status why);

  std::string FullKey(std::string_view key) const { return options_.location.prefix + std::string(key); }
  std::string UriOf(std::string_view full_key) const;
  S3OperationStats& OpStats(const std::string& op);  // REQUIRES: stats_mu_ held
  void CountUnverifiedEtag() {
    std::lock_guard lock(stats_mu_);
    stats_.unverified_etags++;
  }

  Options options_;
  std::shared_ptr<s3::CredentialsProvider> credentials_;
  std::unique_ptr<HttpClient> http_;
  // http_.get(), never changed: the callbacks use this, because the
  // destructor's http_.reset() clears http_ while the loop may still
  // be inside a callback (a stopping client refuses or drops new work).
  HttpClient* const client_;
  s3::RetryBudget budget_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;

  mutable std::mutex stats_mu_;
  S3Stats stats_;

  // Calls waiting out a backoff (owned here so that destruction can
  // complete them with kCancelled: the client drops pending timers).
  std::mutex waiting_mu_;
  std::set<std::shared_ptr<Call>> waiting_;
  std::atomic<bool> closing_{false};
};

}  // namespace freshet
