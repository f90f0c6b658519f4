// Retry policy for S3 requests, as pure code: which outcomes are retried,
// how long to wait (exponential backoff with full jitter), and a retry
// budget that stops retry storms when the service is down.
//
// Retried (transient): HTTP 5xx except 501 Not Implemented; 429; any
// status whose error code is a throttling or timeout code (SlowDown,
// Throttling, ThrottlingException, RequestTimeout, RequestTimeTooSkewed,
// RequestLimitExceeded, ... the AWS SDKs' standard-mode lists, plus
// InternalError and ServiceUnavailable); any error code inside a 200
// response (CompleteMultipartUpload); client errors kUnavailable (reset,
// truncated body) and kDeadlineExceeded.
// Never retried: any other 4xx (403 AccessDenied / SignatureDoesNotMatch,
// 404, 412 PreconditionFailed, ...), 501, kDataLoss, kInvalidArgument,
// kFailedPrecondition, kCancelled.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace freshet::s3 {

struct RetryOptions {
  uint32_t max_attempts = 5;  // first try included; 1 = never retry
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5000};
  // Token bucket shared by all requests of one store (AWS SDK "standard"
  // mode): a retry costs retry_cost tokens (timeout_retry_cost after a
  // timeout), a success refunds success_refund; when the bucket is empty
  // failures are returned at once instead of retried.
  uint32_t budget_tokens = 500;
  uint32_t retry_cost = 5;
  uint32_t timeout_retry_cost = 10;
  uint32_t success_refund = 1;
};

// True if an HTTP response with this status and S3 error code (may be "")
// is worth retrying.
bool IsRetryableResponse(int http_status, std::string_view error_code);

// The wait before attempt `attempt` (2 = first retry): uniform in
// [0, min(max_delay, base_delay * 2^(attempt-2))], drawn from `random`
// (any 64-bit value; callers pass a PRNG draw so tests can fix it).
// 0 for attempt 0 or 1 (nothing to wait for before the first try).
std::chrono::milliseconds BackoffDelay(const RetryOptions& options, uint32_t attempt, uint64_t random);

// Thread-safe token bucket (see RetryOptions).
class RetryBudget {
 public:
  explicit RetryBudget(const RetryOptions& options);
  // Takes the cost of one retry; false (and nothing taken) if not enough.
  bool TryAcquire(bool after_timeout);
  void OnSuccess();
  uint32_t available() const;

 private:
  const RetryOptions options_;
  mutable std::mutex mu_;
  uint32_t tokens_;
};

}  // namespace freshet::s3
