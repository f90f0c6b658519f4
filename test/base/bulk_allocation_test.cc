#include "base/bulk_allocation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace freshet {
namespace {

std::atomic<int> g_ends{0};

// Scopes nest and cross threads; the end hook runs once per time the last
// open scope closes, never while one is still open.
TEST(BulkAllocationTest, TheEndHookRunsWhenTheLastScopeCloses) {
  SetBulkAllocationEndHook([] {
    EXPECT_FALSE(InBulkAllocation());
    g_ends.fetch_add(1);
  });
  EXPECT_FALSE(InBulkAllocation());
  {
    BulkAllocationScope outer;
    EXPECT_TRUE(InBulkAllocation());
    {
      BulkAllocationScope inner;
      EXPECT_TRUE(InBulkAllocation());
    }
    EXPECT_EQ(g_ends.load(), 0);
    EXPECT_TRUE(InBulkAllocation());
  }
  EXPECT_EQ(g_ends.load(), 1);
  EXPECT_FALSE(InBulkAllocation());

  {
    BulkAllocationScope held;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([] {
        for (int i = 0; i < 1000; ++i) BulkAllocationScope s;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(g_ends.load(), 1);  // `held` was open all along
  }
  EXPECT_EQ(g_ends.load(), 2);
  SetBulkAllocationEndHook(nullptr);
}

}  // namespace
}  // namespace freshet
