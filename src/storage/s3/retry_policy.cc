#include "storage/s3/retry_policy.h"

#include <algorithm>
#include <iterator>

namespace freshet::s3 {
namespace {

// The AWS SDKs' "standard" retry mode lists (botocore retries/standard.py,
// the SDK reference "Retry behavior"): throttling codes, transient codes,
// plus the generic server-side codes S3 also uses with a 4xx/5xx status.
constexpr std::string_view kRetryableCodes[] = {
    // Throttling.
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "PriorRequestNotComplete", "EC2ThrottledException",
    // Transient.
    "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
    // Signed too long before it arrived (e.g. after waiting in the pool's
    // queue): every attempt is signed afresh, so a retry can succeed.
    "RequestTimeTooSkewed"};

}  // namespace

bool IsRetryableResponse(int http_status, std::string_view error_code) {
  if (!error_code.empty() &&
      std::find(std::begin(kRetryableCodes), std::end(kRetryableCodes), error_code) != std::end(kRetryableCodes)) {
    return true;
  }
  // An <Error> inside a 200 (CompleteMultipartUpload): S3 asks callers to
  // retry, and the SDKs treat it as a 500 whatever its code.
  if (http_status >= 200 && http_status < 300) return !error_code.empty();
  if (http_status == 429) return true;
  // 501 Not Implemented names a feature the server lacks; asking again will
  // not add it.
  return http_status >= 500 && http_status != 501;
}

std::chrono::milliseconds BackoffDelay(const RetryOptions& options, uint32_t attempt, uint64_t random) {
  if (attempt < 2) return std::chrono::milliseconds(0);
  const uint64_t max = static_cast<uint64_t>(std::max<int64_t>(0, options.max_delay.count()));
  const uint64_t base = static_cast<uint64_t>(std::max<int64_t>(0, options.base_delay.count()));
  // base * 2^(attempt-2), saturating at max (the shift is bounded so it
  // cannot overflow before the comparison).
  uint64_t cap = max;
  const uint32_t shift = attempt - 2;
  if (shift < 63 && base <= (max >> shift)) cap = base << shift;
  return std::chrono::milliseconds(static_cast<int64_t>(random % (cap + 1)));
}

RetryBudget::RetryBudget(const RetryOptions& options) : options_(options), tokens_(options.budget_tokens) {}

bool RetryBudget::TryAcquire(bool after_timeout) {
  const uint32_t cost = after_timeout ? options_.timeout_retry_cost : options_.retry_cost;
  std::lock_guard<std::mutex> lock(mu_);
  if (tokens_ < cost) return false;
  tokens_ -= cost;
  return true;
}

void RetryBudget::OnSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = static_cast<uint32_t>(
      std::min<uint64_t>(options_.budget_tokens, uint64_t{tokens_} + options_.success_refund));
}

uint32_t RetryBudget::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

}  // namespace freshet::s3
