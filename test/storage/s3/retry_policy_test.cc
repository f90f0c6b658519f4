#include "storage/s3/retry_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace freshet::s3 {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, ServerErrorsAreRetried) {
  for (int status : {500, 502, 503, 504, 509, 599}) {
    EXPECT_TRUE(IsRetryableResponse(status, "")) << status;
  }
  EXPECT_TRUE(IsRetryableResponse(500, "InternalError"));
  EXPECT_TRUE(IsRetryableResponse(503, "SlowDown"));
  EXPECT_TRUE(IsRetryableResponse(503, "ServiceUnavailable"));
  EXPECT_TRUE(IsRetryableResponse(429, ""));
  EXPECT_TRUE(IsRetryableResponse(429, "TooManyRequestsException"));
  // 501 names a missing feature.
  EXPECT_FALSE(IsRetryableResponse(501, "NotImplemented"));
}

TEST(RetryPolicyTest, ThrottlingAndTimeoutCodesAreRetriedWhateverTheStatus) {
  // The AWS SDKs' standard retry mode lists, plus InternalError,
  // ServiceUnavailable and RequestTimeTooSkewed (see retry_policy.h).
  for (const char* code :
       {"SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "PriorRequestNotComplete", "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
        "EC2ThrottledException", "RequestTimeTooSkewed"}) {
    for (int status : {400, 403, 503}) EXPECT_TRUE(IsRetryableResponse(status, code)) << status << " " << code;
  }
}

TEST(RetryPolicyTest, OtherClientErrorsAreNotRetried) {
  EXPECT_FALSE(IsRetryableResponse(400, ""));
  EXPECT_FALSE(IsRetryableResponse(400, "InvalidArgument"));
  EXPECT_FALSE(IsRetryableResponse(400, "BadDigest"));
  EXPECT_FALSE(IsRetryableResponse(400, "EntityTooSmall"));
  EXPECT_FALSE(IsRetryableResponse(400, "InvalidPart"));
  EXPECT_FALSE(IsRetryableResponse(403, "AccessDenied"));
  EXPECT_FALSE(IsRetryableResponse(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(IsRetryableResponse(403, "InvalidAccessKeyId"));
  EXPECT_FALSE(IsRetryableResponse(404, "NoSuchKey"));
  EXPECT_FALSE(IsRetryableResponse(404, "NoSuchBucket"));
  EXPECT_FALSE(IsRetryableResponse(404, "NoSuchUpload"));
  EXPECT_FALSE(IsRetryableResponse(409, "OperationAborted"));
  EXPECT_FALSE(IsRetryableResponse(412, "PreconditionFailed"));
  EXPECT_FALSE(IsRetryableResponse(416, "InvalidRange"));
  // Codes are case-sensitive, as S3 sends them.
  EXPECT_FALSE(IsRetryableResponse(400, "slowdown"));
}

TEST(RetryPolicyTest, ErrorInsideA200IsRetried) {
  EXPECT_TRUE(IsRetryableResponse(200, "InternalError"));
  EXPECT_TRUE(IsRetryableResponse(200, "SlowDown"));
  // The SDKs turn any <Error> in a 200 into a 500.
  EXPECT_TRUE(IsRetryableResponse(200, "SomethingNew"));
  EXPECT_FALSE(IsRetryableResponse(200, ""));
  EXPECT_FALSE(IsRetryableResponse(204, ""));
  EXPECT_FALSE(IsRetryableResponse(304, ""));
}

TEST(RetryPolicyTest, BackoffBoundsAndGrowth) {
  RetryOptions o;  // base 100 ms, max 5 s
  EXPECT_EQ(BackoffDelay(o, 0, 12345), milliseconds(0));
  EXPECT_EQ(BackoffDelay(o, 1, 12345), milliseconds(0));
  // The largest draw reaches the cap exactly: base * 2^(attempt-2).
  const uint64_t top = 100;  // random % (cap + 1) == cap for random == cap
  EXPECT_EQ(BackoffDelay(o, 2, top), milliseconds(100));
  EXPECT_EQ(BackoffDelay(o, 3, 200), milliseconds(200));
  EXPECT_EQ(BackoffDelay(o, 4, 400), milliseconds(400));
  EXPECT_EQ(BackoffDelay(o, 7, 3200), milliseconds(3200));
  // Capped at max_delay from attempt 8 on (100 * 2^6 = 6400 > 5000).
  EXPECT_EQ(BackoffDelay(o, 8, 5000), milliseconds(5000));
  EXPECT_EQ(BackoffDelay(o, 8, 5001), milliseconds(0));
  EXPECT_EQ(BackoffDelay(o, 0xffffffff, 5000), milliseconds(5000));
  // Zero draws zero.
  for (uint32_t a = 2; a < 70; ++a) EXPECT_EQ(BackoffDelay(o, a, 0), milliseconds(0)) << a;
}

TEST(RetryPolicyTest, BackoffIsFullJitterWithinBounds) {
  RetryOptions o;
  o.base_delay = milliseconds(50);
  o.max_delay = milliseconds(2000);
  std::mt19937_64 rng(7);
  for (uint32_t attempt = 2; attempt <= 40; ++attempt) {
    const int64_t cap = std::min<int64_t>(2000, attempt - 2 < 20 ? 50LL << (attempt - 2) : 2000);
    int64_t lo = cap, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      int64_t d = BackoffDelay(o, attempt, rng()).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, cap) << attempt;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the draws spread over the whole range, not near the cap.
    EXPECT_LE(lo, cap / 10) << attempt;
    EXPECT_GE(hi, cap - cap / 10) << attempt;
  }
}

TEST(RetryPolicyTest, BackoffDeterministicForAGivenDraw) {
  RetryOptions o;
  EXPECT_EQ(BackoffDelay(o, 5, 987654321), BackoffDelay(o, 5, 987654321));
  EXPECT_EQ(BackoffDelay(o, 5, 987654321), milliseconds(987654321 % 801));
}

TEST(RetryPolicyTest, BackoffDegenerateOptions) {
  RetryOptions o;
  o.base_delay = milliseconds(0);
  EXPECT_EQ(BackoffDelay(o, 5, 999), milliseconds(0));
  o.base_delay = milliseconds(100);
  o.max_delay = milliseconds(0);
  EXPECT_EQ(BackoffDelay(o, 5, 999), milliseconds(0));
  o.max_delay = milliseconds(50);  // below base: max wins
  EXPECT_EQ(BackoffDelay(o, 2, 50), milliseconds(50));
  EXPECT_EQ(BackoffDelay(o, 2, 51), milliseconds(0));
}

TEST(RetryBudgetTest, ExhaustionAndRefund) {
  RetryOptions o;
  o.budget_tokens = 20;
  o.retry_cost = 5;
  o.timeout_retry_cost = 10;
  o.success_refund = 1;
  RetryBudget budget(o);
  EXPECT_EQ(budget.available(), 20u);
  EXPECT_TRUE(budget.TryAcquire(false));  // 15
  EXPECT_TRUE(budget.TryAcquire(true));   // 5
  EXPECT_FALSE(budget.TryAcquire(true));  // needs 10: nothing taken
  EXPECT_EQ(budget.available(), 5u);
  EXPECT_TRUE(budget.TryAcquire(false));  // 0
  EXPECT_FALSE(budget.TryAcquire(false));
  EXPECT_EQ(budget.available(), 0u);
  for (int i = 0; i < 4; ++i) budget.OnSuccess();
  EXPECT_EQ(budget.available(), 4u);
  EXPECT_FALSE(budget.TryAcquire(false));
  budget.OnSuccess();
  EXPECT_TRUE(budget.TryAcquire(false));
  // Refunds never exceed the bucket.
  for (int i = 0; i < 100; ++i) budget.OnSuccess();
  EXPECT_EQ(budget.available(), 20u);
}

TEST(RetryBudgetTest, DefaultsAllowAHundredRetries) {
  RetryBudget budget{RetryOptions{}};
  int granted = 0;
  while (budget.TryAcquire(false)) ++granted;
  EXPECT_EQ(granted, 100);  // 500 tokens / 5
}

TEST(RetryBudgetTest, ThreadSafe) {
  RetryOptions o;
  o.budget_tokens = 10000;
  o.retry_cost = 3;
  o.success_refund = 2;
  RetryBudget budget(o);
  constexpr int kThreads = 4;
  constexpr int kOps = 5000;
  std::vector<std::thread> threads;
  std::atomic<int> acquired{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kOps; ++i) {
        if (budget.TryAcquire(false)) acquired.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  // 10000 / 3 = 3333 grants, exactly, however the threads interleave.
  EXPECT_EQ(acquired.load(), 3333);
  EXPECT_EQ(budget.available(), 1u);
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kOps; ++i) budget.OnSuccess();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(budget.available(), 10000u);
}

}  // namespace
}  // namespace freshet::s3
