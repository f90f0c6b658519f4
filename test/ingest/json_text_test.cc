#include "ingest/json_text.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

TEST(JsonTextTest, EscapesOnlyWhatJsonRequires) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c/\n\t\x01\x7f\xC3\xA9", 12));
  EXPECT_EQ(out, "\"a\\\"b\\\\c/\\n\\t\\u0001\x7f\xC3\xA9\"");
}

TEST(JsonTextTest, StringValueUnescapes) {
  std::string scratch;
  EXPECT_EQ(JsonStringValue("\"plain\"", &scratch), "plain");
  EXPECT_EQ(JsonStringValue(R"("a\"b\\c\n\u0001\u00e9\ud83d\ude00")", &scratch),
            "a\"b\\c\n\x01\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(JsonTextTest, SplitsCanonicalScalars) {
  std::vector<std::string_view> parts;
  SplitCanonicalScalars(R"(["a,b","c\"]",3,-1.5e10,""])", &parts);
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[0], R"("a,b")");
  EXPECT_EQ(parts[1], R"("c\"]")");
  EXPECT_EQ(parts[2], "3");
  EXPECT_EQ(parts[3], "-1.5e10");
  EXPECT_EQ(parts[4], R"("")");
  parts.clear();
  SplitCanonicalScalars("[]", &parts);
  EXPECT_TRUE(parts.empty());
  SplitCanonicalScalars("42", &parts);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], "42");
}

TEST(JsonTextTest, ExcerptEscapesInvalidBytesAndKeepsCharactersWhole) {
  EXPECT_EQ(Utf8Excerpt("ab\xff" "c", 10), "ab\\xffc");
  EXPECT_EQ(Utf8Excerpt("abc\xC3\xA9", 4), "abc");      // é straddles the limit: dropped whole
  EXPECT_EQ(Utf8Excerpt("abc\xC3\xA9", 5), "abc\xC3\xA9");
  EXPECT_EQ(Utf8Excerpt("\xED\xA0\x80", 10), "\\xed\\xa0\\x80");  // a surrogate is not UTF-8
  EXPECT_EQ(Utf8Excerpt("\xC3", 10), "\\xc3");            // truncated sequence at the end
}

}  // namespace
}  // namespace freshet
