// StoreRangeSource reads an object's bytes by range: through ranged GETs,
// or, when the store's objects are local files, straight from the file.
#include "reader/store_range_source.h"

#include <gtest/gtest.h>

#include "storage/blocking_store.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

std::string Body() {
  std::string b;
  for (int i = 0; i < 5000; ++i) b += std::to_string(i) + ",";
  return b;
}

void ExpectReadsLike(const RandomAccessSource& src, const std::string& body) {
  ASSERT_EQ(src.size(), body.size());
  for (uint64_t off : {uint64_t{0}, uint64_t{1}, uint64_t{777}, uint64_t{body.size() - 10}}) {
    Result<std::string> got = src.Read(off, 10);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, body.substr(off, 10));
  }
  EXPECT_EQ(*src.Read(body.size(), 0), "");
  EXPECT_EQ(*src.Read(0, body.size()), body);
  EXPECT_EQ(src.Read(body.size() - 5, 6).status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreRangeSourceTest, MemoryStoreReadsByRangedGets) {
  auto store = std::make_shared<MemoryStore>();
  const std::string body = Body();
  ASSERT_TRUE(PutSync(*store, PutRequest{.key = "g/stored", .body = body}).ok());
  EXPECT_EQ(store->LocalPath("g/stored"), std::nullopt);
  ExpectReadsLike(*StoreRangeSource(store, "g/stored", body.size()), body);
}

TEST(StoreRangeSourceTest, LocalStoreReadsTheFileAndKeepsTheBytesItOpened) {
  testing::TempDir dir;
  std::shared_ptr<ObjectStore> store = std::move(LocalStore::Open(dir.path())).value();
  const std::string body = Body();
  ASSERT_TRUE(PutSync(*store, PutRequest{.key = "g/stored", .body = body}).ok());
  ASSERT_EQ(store->LocalPath("g/stored"), dir.path() + "/g/stored");
  EXPECT_EQ(store->LocalPath("../escape"), std::nullopt);
  auto src = StoreRangeSource(store, "g/stored", body.size());
  ExpectReadsLike(*src, body);
  // Replaced and then deleted under it: the open file still reads as it was.
  ASSERT_TRUE(PutSync(*store, PutRequest{.key = "g/stored", .body = "other"}).ok());
  ASSERT_TRUE(DeleteSync(*store, "g/stored").ok());
  ExpectReadsLike(*src, body);
}

TEST(StoreRangeSourceTest, LocalStoreWrongSizeOrMissingKeepsTheStoreErrors) {
  testing::TempDir dir;
  std::shared_ptr<ObjectStore> store = std::move(LocalStore::Open(dir.path())).value();
  ASSERT_TRUE(PutSync(*store, PutRequest{.key = "g/stored", .body = "12345"}).ok());
  // The manifest says 9 bytes: the file is not used, and the GET says why.
  Result<std::string> got = StoreRangeSource(store, "g/stored", 9)->Read(0, 3);
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  got = StoreRangeSource(store, "g/missing", 9)->Read(0, 3);
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
}

}  // namespace
}  // namespace freshet
