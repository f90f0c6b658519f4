#include "storage/object_key.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

TEST(ObjectKeyTest, Accepts) {
  for (const char* key : {"a", "a/b/c", "a-b", "a.b", "...", ".hidden", "a/..b", "back\\slash", "sp ace",
                          "\xe6\x97\xa5\xe6\x9c\xac/\xc3\xa9", "updates/2026/11/22/14/05/part-0.jsonl.lz4"}) {
    EXPECT_TRUE(ValidateObjectKey(key).ok()) << key;
  }
  EXPECT_TRUE(ValidateObjectKey(std::string(1024, 'k')).ok());
}

TEST(ObjectKeyTest, RejectsWithKeyInMessage) {
  for (const char* key : {"/abs", "a//b", "a/", "/", ".", "..", "a/../b", "../x", "a/.", "./a", ".freshet-tmp-1",
                          "a/.freshet-tmp-x/b", "bad\xff", "\xc0\xaf", "\xed\xa0\x80"}) {
    Status st = ValidateObjectKey(key);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << key;
    if (std::string_view(key).find_first_of("\xff\xc0\xed") == std::string_view::npos) {
      EXPECT_NE(st.message().find(std::string("'") + key + "'"), std::string::npos) << st.message();
    }
  }
  EXPECT_EQ(ValidateObjectKey("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateObjectKey(std::string("a\0b", 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateObjectKey(std::string("a\0b", 3)).message().find("a\\x00b"), std::string::npos);
  EXPECT_EQ(ValidateObjectKey(std::string(1025, 'k')).code(), StatusCode::kInvalidArgument);
}

TEST(ObjectKeyTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));   // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xe6\x97"));          // truncated
}

}  // namespace
}  // namespace freshet
