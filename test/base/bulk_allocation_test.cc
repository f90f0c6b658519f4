#include "base/bulk_allocation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace freshet {
namespace {

std::atomic<int> g_begins{0};
std::atomic<int> g_ends{0};

// Scopes nest and cross threads; the begin hooks run once per time the
// first scope opens, the end hooks once per time the last open scope
// closes, never while one is still open.
TEST(BulkAllocationTest, TheHooksRunWhenTheFirstScopeOpensAndTheLastCloses) {
  ClearBulkAllocationHooks();
  AddBulkAllocationHooks(
      [] {
        EXPECT_TRUE(InBulkAllocation());
        g_begins.fetch_add(1);
      },
      [] {
        EXPECT_FALSE(InBulkAllocation());
        g_ends.fetch_add(1);
      });
  AddBulkAllocationHooks(nullptr, [] { g_ends.fetch_add(10); });
  EXPECT_FALSE(InBulkAllocation());
  {
    BulkAllocationScope outer;
    EXPECT_TRUE(InBulkAllocation());
    {
      BulkAllocationScope inner;
      EXPECT_TRUE(InBulkAllocation());
    }
    EXPECT_EQ(g_ends.load(), 0);
    EXPECT_EQ(g_begins.load(), 1);
    EXPECT_TRUE(InBulkAllocation());
  }
  EXPECT_EQ(g_ends.load(), 11);
  EXPECT_EQ(g_begins.load(), 1);
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
    EXPECT_EQ(g_ends.load(), 11);  // `held` was open all along
    EXPECT_EQ(g_begins.load(), 2);
  }
  EXPECT_EQ(g_ends.load(), 22);
  ClearBulkAllocationHooks();
}

}  // namespace
}  // namespace freshet
