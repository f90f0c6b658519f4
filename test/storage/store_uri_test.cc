#include "storage/store_uri.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/blocking_store.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

namespace fs = std::filesystem;

TEST(StoreUriTest, LocalAbsolute) {
  testing::TempDir dir("uri");
  std::string root = fs::canonical(dir.path()).string();
  Result<std::unique_ptr<ObjectStore>> store = OpenStore("local://" + root);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "local://" + root);
  ASSERT_TRUE(PutSync(**store, "k", "v").ok());
  EXPECT_TRUE(fs::exists(root + "/k"));
}

TEST(StoreUriTest, BarePathAndMissingRootIsCreated) {
  testing::TempDir dir("uri");
  std::string root = fs::canonical(dir.path()).string() + "/new/bucket";
  Result<std::unique_ptr<ObjectStore>> store = OpenStore(root);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_EQ((*store)->Describe(), "local://" + root);
}

TEST(StoreUriTest, LocalRelativeResolvesAgainstCwd) {
  testing::TempDir dir("uri");
  fs::path old = fs::current_path();
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  Result<std::unique_ptr<ObjectStore>> store = OpenStore("local://rel/bucket");
  Result<std::unique_ptr<ObjectStore>> bare = OpenStore("rel/bucket2");
  ASSERT_EQ(::chdir(old.c_str()), 0);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  std::string base = fs::canonical(dir.path()).string();
  EXPECT_EQ((*store)->Describe(), "local://" + base + "/rel/bucket");
  EXPECT_EQ((*bare)->Describe(), "local://" + base + "/rel/bucket2");
}

TEST(StoreUriTest, MemoryByName) {
  Result<std::unique_ptr<ObjectStore>> a = OpenStore("mem://uri-test");
  Result<std::unique_ptr<ObjectStore>> b = OpenStore("mem://uri-test");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(PutSync(**a, "k", "v").ok());
  EXPECT_EQ(GetSync(**b, "k")->body, "v");
  EXPECT_EQ((*a)->Describe(), "mem://uri-test");
}

TEST(StoreUriTest, BadUris) {
  struct Case {
    const char* uri;
    const char* mentions;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"s3://", "no bucket"},
                        Case{"mem://", "missing store name"}, Case{"local://", "empty path"},
                        Case{"ftp://host/x", "unknown scheme 'ftp'"}, Case{"://x", "missing scheme"}}) {
    Result<std::unique_ptr<ObjectStore>> r = OpenStore(c.uri);
    ASSERT_FALSE(r.ok()) << c.uri;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.uri;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos) << r.status().message();
    if (*c.uri != '\0') {
      EXPECT_NE(r.status().message().find(c.uri), std::string::npos) << r.status().message();
    }
  }
  testing::TempDir dir("uri");
  std::ofstream(dir.Join("file")) << "x";
  Result<std::unique_ptr<ObjectStore>> r = OpenStore("local://" + dir.Join("file"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(dir.Join("file")), std::string::npos);
}

}  // namespace
}  // namespace freshet
