#include "actors/bounded_parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace freshet {
namespace {

TEST(BoundedParallelTest, RunsAllWithinTheBound) {
  std::atomic<int> in_flight{0}, peak{0}, ran{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::promise<Status> result;
  BoundedParallel::Run(
      50, 4,
      [&](size_t, std::function<void(Status)> complete) {
        int now = ++in_flight;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {}
        std::lock_guard lock(mu);
        threads.emplace_back([&, complete] {
          ++ran;
          --in_flight;
          complete(Status::Ok());
        });
      },
      [&](Status st) { result.set_value(st); });
  Status st = result.get_future().get();
  {
    std::lock_guard lock(mu);
    for (auto& t : threads) t.join();
  }
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(ran.load(), 50);
  EXPECT_LE(peak.load(), 4);
}

TEST(BoundedParallelTest, FirstErrorStopsNewLaunchesAndIsReportedOnce) {
  int launched = 0, done_calls = 0;
  Status got;
  BoundedParallel::Run(
      10, 1,
      [&](size_t i, std::function<void(Status)> complete) {
        ++launched;
        complete(i == 3 ? Status::Unavailable("boom") : Status::Ok());
      },
      [&](Status st) {
        ++done_calls;
        got = st;
      });
  EXPECT_EQ(launched, 4);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(got.code(), StatusCode::kUnavailable);
}

TEST(BoundedParallelTest, ZeroItemsCompletesAtOnce) {
  int done_calls = 0;
  BoundedParallel::Run(0, 8, [](size_t, std::function<void(Status)>) { FAIL(); }, [&](Status st) {
    EXPECT_TRUE(st.ok());
    ++done_calls;
  });
  EXPECT_EQ(done_calls, 1);
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

TEST(BoundedParallelTest, InlineCompletionDoesNotRecursePerItem) {
  size_t ran = 0;
  bool done = false;
  BoundedParallel::Run(
      200000, 8, [&](size_t, std::function<void(Status)> complete) { ++ran; complete(Status::Ok()); },
      [&](Status st) { done = st.ok(); });
  EXPECT_EQ(ran, 200000u);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace freshet
