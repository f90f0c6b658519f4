#include "storage/memory_store.h"

#include <gtest/gtest.h>

#include "storage/blocking_store.h"

namespace freshet {
namespace {

TEST(MemoryStoreTest, CountsCallsPerOperation) {
  MemoryStore store;
  ASSERT_TRUE(PutSync(store, "a", "1").ok());
  ASSERT_TRUE(PutSync(store, "b", "2").ok());
  ASSERT_TRUE(GetSync(store, "a").ok());
  EXPECT_FALSE(HeadSync(store, "zzz").ok());
  ASSERT_TRUE(DeleteSync(store, "b").ok());
  ASSERT_TRUE(ListAllSync(store, "").ok());
  EXPECT_FALSE(GetSync(store, "/bad").ok());  // invalid calls count too
  MemoryStore::CallCounts want;
  want.put = 2;
  want.get = 2;
  want.head = 1;
  want.del = 1;
  want.list = 1;
  EXPECT_EQ(store.call_counts(), want);
  store.ResetCallCounts();
  EXPECT_EQ(store.call_counts(), MemoryStore::CallCounts{});
  EXPECT_EQ(store.Keys(), std::vector<std::string>{"a"});
}

TEST(MemoryStoreTest, CompletesInlineAndAllowsReentry) {
  MemoryStore store;
  bool done = false;
  store.Put(PutRequest{"k", "v", false}, [&](Result<ObjectInfo> r) {
    ASSERT_TRUE(r.ok());
    // Calling back into the store from its callback must not deadlock.
    store.Get(GetRequest{"k", std::nullopt}, [&](Result<GetResult> g) {
      ASSERT_TRUE(g.ok());
      EXPECT_EQ(g->body, "v");
      done = true;
    });
  });
  EXPECT_TRUE(done);
}

TEST(MemoryStoreTest, NamedStoresAreShared) {
  auto a = MemoryStore::OpenNamed("memory-store-test");
  auto b = MemoryStore::OpenNamed("memory-store-test");
  ASSERT_TRUE(PutSync(*a, "k", "shared").ok());
  EXPECT_EQ(GetSync(*b, "k")->body, "shared");
  EXPECT_EQ(b->call_counts().put, 1u);
  EXPECT_EQ(a->Describe(), "mem://memory-store-test");
  MemoryStore::DropNamed("memory-store-test");
  EXPECT_EQ(GetSync(*a, "k")->body, "shared");  // existing handles keep the contents
  auto c = MemoryStore::OpenNamed("memory-store-test");
  EXPECT_EQ(GetSync(*c, "k").status().code(), StatusCode::kNotFound);
  MemoryStore::DropNamed("memory-store-test");

  MemoryStore anon1, anon2;
  EXPECT_NE(anon1.Describe(), anon2.Describe());
  EXPECT_TRUE(anon1.Describe().starts_with("mem://anonymous-"));
}

TEST(MemoryStoreTest, KeyAndKeysUnderItCoexistAsInS3) {
  MemoryStore store;
  ASSERT_TRUE(PutSync(store, "a", "1").ok());
  ASSERT_TRUE(PutSync(store, "a/b", "2").ok());
  ListRequest req;
  req.delimiter = "/";
  Result<ListPage> page = ListPageSync(store, req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a");
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"a/"});
}

}  // namespace
}  // namespace freshet
