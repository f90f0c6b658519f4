#include "plan/merge_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

namespace freshet {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(MergePolicyTest, NothingToMergeInAShortOrUnevenChain) {
  MergePolicyOptions o;
  EXPECT_FALSE(ChooseMerge({}, o));
  EXPECT_FALSE(ChooseMerge({5 * kMiB, 5 * kMiB, 5 * kMiB}, o));
  // Four, but not within 4x of each other anywhere.
  EXPECT_FALSE(ChooseMerge({400 * kMiB, 90 * kMiB, 20 * kMiB, 4 * kMiB}, o));
}

TEST(MergePolicyTest, TheNewestRunOfSimilarSegmentsMerges) {
  MergePolicyOptions o;
  auto m = ChooseMerge({400 * kMiB, 10 * kMiB, 12 * kMiB, 11 * kMiB, 30 * kMiB, 2 * kMiB}, o);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->begin, 1u);
  EXPECT_EQ(m->end, 5u);
  EXPECT_EQ(m->reason, "tiered: 4 segments, each at most 1x the newer ones together (63.0 MiB)");
  // Two candidate runs: the newer one goes first.
  m = ChooseMerge({40 * kMiB, 40 * kMiB, 40 * kMiB, 40 * kMiB, 2 * kMiB, 2 * kMiB, 2 * kMiB, 2 * kMiB}, o);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->begin, 4u);
  EXPECT_EQ(m->end, 8u);
}

TEST(MergePolicyTest, TinySegmentsCountAsTheFloor) {
  MergePolicyOptions o;  // floor 1 MiB
  auto m = ChooseMerge({3 * kMiB, 2'000, 50, 900'000, 7}, o);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->begin, 0u);  // four floored 1 MiB, then 3 MiB <= their 4 MiB
  EXPECT_EQ(m->end, 5u);
  o.floor_bytes = 0;
  EXPECT_FALSE(ChooseMerge({3 * kMiB, 2'000, 50, 900'000}, o));
}

TEST(MergePolicyTest, TheCapMergesTheSmallestAdjacentRun) {
  MergePolicyOptions o;
  o.max_segments = 5;
  o.floor_bytes = 0;
  // Each one over 4x its neighbour: no tiered merge; 6 > 5 segments.
  std::vector<uint64_t> sizes = {1'000'000'000, 200'000'000, 40'000'000, 9'000'000, 2'000'000, 100'000};
  auto m = ChooseMerge(sizes, o);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->begin, 2u);  // 40M + 9M + 2M + 0.1M is the smallest run of 4
  EXPECT_EQ(m->end, 6u);
  EXPECT_EQ(m->reason.rfind("cap: 6 segments > max_segments 5", 0), 0u) << m->reason;
}

TEST(MergePolicyTest, OptionsAreValidated) {
  MergePolicyOptions o;
  EXPECT_TRUE(ValidateMergePolicy(o).ok());
  o.merge_factor = 1;
  EXPECT_EQ(ValidateMergePolicy(o).code(), StatusCode::kInvalidArgument);
  o = {};
  o.size_ratio = 0;
  EXPECT_EQ(ValidateMergePolicy(o).code(), StatusCode::kInvalidArgument);
  o = {};
  o.max_segments = 3;
  EXPECT_NE(ValidateMergePolicy(o).message().find("max_segments"), std::string::npos);
}

// A day of batches: one segment per trigger of random size (a quiet night,
// a busy day), merging whenever the policy says so. The chain stays short,
// and each byte is rewritten a logarithmic number of times, not once per
// batch.
TEST(MergePolicyTest, ADayOfBatchesKeepsTheChainShortAndRewritesLittle) {
  MergePolicyOptions o;
  std::mt19937_64 rng(42);
  std::vector<uint64_t> chain;
  uint64_t written = 0, merged_bytes = 0, merges = 0;
  size_t longest = 0;
  for (int batch = 0; batch < 288 * 3; ++batch) {  // three days of 5-minute partitions
    const bool busy = (batch % 288) > 96;
    std::uniform_int_distribution<uint64_t> size(busy ? 500'000 : 5'000, busy ? 8 * kMiB : 200'000);
    chain.push_back(size(rng));
    written += chain.back();
    while (auto m = ChooseMerge(chain, o)) {
      ASSERT_GE(m->end - m->begin, 2u);
      ASSERT_LE(m->end, chain.size());
      // Merged size: the sum, less what newer segments shadow (here 10%).
      uint64_t sum = std::accumulate(chain.begin() + m->begin, chain.begin() + m->end, uint64_t{0});
      merged_bytes += sum;
      ++merges;
      chain.erase(chain.begin() + m->begin + 1, chain.begin() + m->end);
      chain[m->begin] = sum - sum / 10;
    }
    longest = std::max(longest, chain.size());
  }
  std::printf("chain %zu (longest %zu), %llu merges, rewritten %.2fx\n", chain.size(), longest,
              static_cast<unsigned long long>(merges), static_cast<double>(merged_bytes) / static_cast<double>(written));
  EXPECT_LE(longest, o.max_segments);
  EXPECT_LE(longest, 12u);
  EXPECT_LE(chain.size(), 12u) << ::testing::PrintToString(chain);
  // A few tiers: each byte rewritten about 3 times, not once per batch.
  EXPECT_LT(static_cast<double>(merged_bytes) / static_cast<double>(written), 4.0)
      << merges << " merges, " << merged_bytes << " of " << written;
  // Determinism: the same chain, the same choice.
  std::vector<uint64_t> again = chain;
  EXPECT_EQ(ChooseMerge(chain, o), ChooseMerge(again, o));
}

}  // namespace
}  // namespace freshet
