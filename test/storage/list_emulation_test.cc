#include "storage/list_emulation.h"

#include <gtest/gtest.h>

#include <set>

#include "list_model.h"

namespace freshet {
namespace {

using testing::ModelEntry;

// Drives a pager over a sorted key vector the naive way: offer every key.
Result<ListPage> ListVector(const std::vector<std::string>& sorted, const ListRequest& req) {
  FRESHET_ASSIGN_OR_RETURN(ListPager pager, ListPager::Create(req));
  for (const std::string& k : sorted) {
    ListPager::Verdict v = pager.Offer(k);
    if (v == ListPager::Verdict::kStop) break;
    if (v == ListPager::Verdict::kTake) pager.Take(ObjectInfo{k, k.size(), "e"});
  }
  return std::move(pager).Finish();
}

std::vector<ModelEntry> Entries(const ListPage& page) {
  std::vector<ModelEntry> out;
  for (const ObjectInfo& o : page.objects) out.push_back({o.key, false});
  for (const std::string& p : page.common_prefixes) out.push_back({p, true});
  std::sort(out.begin(), out.end(), [](const ModelEntry& a, const ModelEntry& b) { return a.name < b.name; });
  return out;
}

TEST(PrefixSuccessorTest, Basics) {
  EXPECT_EQ(PrefixSuccessor("a/"), "a0");
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff\xff")), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff")), std::nullopt);
  EXPECT_EQ(PrefixSuccessor(""), std::nullopt);
}

TEST(ListPagerTest, RejectsBadRequests) {
  ListRequest req;
  req.max_keys = 0;
  EXPECT_EQ(ListPager::Create(req).status().code(), StatusCode::kInvalidArgument);
  req.max_keys = 10;
  for (const char* token : {"garbage", "1k", "1kzz", "1k6", "2k61", "1x61"}) {
    req.continuation_token = token;
    Result<ListPager> r = ListPager::Create(req);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << token;
  }
}

TEST(ListPagerTest, ClampsMaxKeysTo1000) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) keys.push_back("k" + std::to_string(10000 + i));
  ListRequest req;
  req.max_keys = 5000;
  Result<ListPage> page = ListVector(keys, req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 1000u);
  EXPECT_FALSE(page->next_continuation_token.empty());
}

TEST(ListPagerTest, DelimiterExample) {
  std::vector<std::string> keys = {"a-b", "a.b", "a/b/c", "a/b/d", "a/c", "a/d/e", "b"};
  ListRequest req;
  req.prefix = "a/";
  req.delimiter = "/";
  Result<ListPage> page = ListVector(keys, req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a/c");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/b/", "a/d/"}));
  EXPECT_EQ(page->next_continuation_token, "");

  // A page ending on a common prefix resumes after every key under it.
  req.max_keys = 1;
  page = ListVector(keys, req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/b/"}));
  req.continuation_token = page->next_continuation_token;
  page = ListVector(keys, req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a/c");
}

TEST(ListPagerTest, FirstCandidateAndClassify) {
  ListRequest req;
  req.prefix = "p/";
  req.start_after = "p/m";
  Result<ListPager> pager = ListPager::Create(req);
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ(pager->FirstCandidate(), std::string("p/m\0", 4));
  using S = ListPager::Subtree;
  EXPECT_EQ(pager->ClassifySubtree(""), S::kVisit);
  EXPECT_EQ(pager->ClassifySubtree("p/"), S::kVisit);
  EXPECT_EQ(pager->ClassifySubtree("p/a/"), S::kSkip);   // wholly before start_after
  EXPECT_EQ(pager->ClassifySubtree("p/m/"), S::kVisit);  // "p/m/x" > "p/m"
  EXPECT_EQ(pager->ClassifySubtree("o/"), S::kSkip);     // before the prefix
  EXPECT_EQ(pager->ClassifySubtree("q/"), S::kStop);     // past the prefix
  req.start_after = "p/m/k";
  pager = ListPager::Create(req);
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ(pager->ClassifySubtree("p/m/"), S::kVisit);  // start_after is inside
  EXPECT_EQ(pager->ClassifySubtree("p/m-/"), S::kSkip);  // "p/m-" < "p/m/"
  EXPECT_EQ(pager->ClassifySubtree("p/m0/"), S::kVisit);
}

// Every request shape over random key sets: the naive driver matches the
// model page by page.
TEST(ListPagerTest, MatchesModel) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> keys = testing::RandomKeys(rng, 5 + rng() % 40);
    std::sort(keys.begin(), keys.end());
    for (int q = 0; q < 10; ++q) {
      ListRequest req;
      req.prefix = testing::RandomCut(rng, keys);
      req.start_after = testing::RandomCut(rng, keys);
      static const char* kDelims[] = {"", "/", "/", "-", ".", "a/"};
      req.delimiter = kDelims[rng() % 6];
      req.max_keys = 1 + rng() % 7;
      std::vector<ModelEntry> want = testing::ModelListing(keys, req.prefix, req.start_after, req.delimiter);
      size_t pos = 0;
      for (;;) {
        Result<ListPage> page = ListVector(keys, req);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        std::vector<ModelEntry> got = Entries(*page);
        size_t n = std::min<size_t>(req.max_keys, want.size() - pos);
        ASSERT_EQ(got, std::vector<ModelEntry>(want.begin() + pos, want.begin() + pos + n));
        pos += n;
        ASSERT_EQ(page->next_continuation_token.empty(), pos == want.size());
        if (page->next_continuation_token.empty()) break;
        req.continuation_token = page->next_continuation_token;
      }
    }
  }
}

}  // namespace
}  // namespace freshet
