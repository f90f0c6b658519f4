// The strict JSON reader shared by the checkpoint, CURRENT, manifest and
// run-state codecs: every problem is an error naming the document and the
// key's path.
#include "base/json_reader.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

namespace freshet {
namespace {

using ::testing::HasSubstr;

Result<JsonDocument> Doc(std::string_view json) { return JsonDocument::Parse(json, "thing", 1024); }

TEST(JsonReaderTest, ReadsEveryKindOfField) {
  auto doc = Doc(R"({"format":1,"name":"a","n":7,"at":"2026-11-22T14:05:00Z","none":null,
                     "inner":{"x":"y"},"list":[{"k":1},{"k":2}],"tags":["p","q"]})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  JsonObject r = doc->root();
  EXPECT_TRUE(r.CheckFormat("format", 1).ok());
  EXPECT_TRUE(r.CheckKeys({"format", "name", "n", "at", "none", "inner", "list", "tags"}).ok());
  std::string name;
  uint64_t n = 0;
  TimePoint at;
  std::optional<TimePoint> none = at;
  std::vector<std::string> tags;
  ASSERT_TRUE(r.ReadString("name", &name).ok());
  ASSERT_TRUE(r.ReadUint64("n", &n).ok());
  ASSERT_TRUE(r.ReadTime("at", &at).ok());
  ASSERT_TRUE(r.ReadOptionalTime("none", &none).ok());
  ASSERT_TRUE(r.ReadStringArray("tags", &tags).ok());
  EXPECT_EQ(name, "a");
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(FormatRfc3339(at), "2026-11-22T14:05:00Z");
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(tags, (std::vector<std::string>{"p", "q"}));
  auto inner = r.ReadObject("inner");
  ASSERT_TRUE(inner.ok());
  EXPECT_TRUE(inner->CheckKeys({"x"}).ok());
  auto list = r.ReadObjects("list", 2);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  uint64_t k = 0;
  ASSERT_TRUE((*list)[1].ReadUint64("k", &k).ok());
  EXPECT_EQ(k, 2u);
}

TEST(JsonReaderTest, ErrorsNameTheDocumentAndThePath) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "thing is not valid JSON"},
      {"[1]", "thing is not a JSON object"},
      {std::string(2000, ' '), "thing is 2000 bytes, more than the 1024"},
      {"{\"a\":1,\"b\":2,\"z\":3}", "thing: unknown key \"z\""},
      {"{\"a\":1}", "thing: missing key \"b\""},
      {"{\"a\":1,\"a\":1,\"b\":2}", "thing: a key repeats in \".\""},
  };
  for (const Case& c : cases) {
    auto doc = Doc(c.json);
    Status st = doc.ok() ? doc->root().CheckKeys({"a", "b"}) : doc.status();
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << c.json.substr(0, 40);
    EXPECT_THAT(st.message(), HasSubstr(c.message));
  }
  auto doc = Doc(R"({"list":[{"k":"x"},7],"t":"noon","o":{"deep":{"n":-1}}})");
  ASSERT_TRUE(doc.ok());
  auto list = doc->root().ReadObjects("list", 9);
  EXPECT_THAT(list.status().message(), HasSubstr("thing: \"list[1]\" is not an object"));
  EXPECT_THAT(doc->root().ReadObjects("list", 1).status().message(), HasSubstr("\"list\" has 2 entries, more than 1"));
  TimePoint t;
  EXPECT_THAT(doc->root().ReadTime("t", &t).message(), HasSubstr("thing: \"t\""));
  auto deep = doc->root().ReadObject("o");
  ASSERT_TRUE(deep.ok());
  auto deeper = deep->ReadObject("deep");
  ASSERT_TRUE(deeper.ok());
  uint64_t n = 0;
  EXPECT_THAT(deeper->ReadUint64("n", &n).message(), HasSubstr("thing: \"o.deep.n\" is not a non-negative integer"));
}

TEST(JsonReaderTest, AnotherFormatIsAPreconditionNotDamage) {
  auto doc = Doc(R"({"format":2})");
  ASSERT_TRUE(doc.ok());
  Status st = doc->root().CheckFormat("format", 1);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("thing \"format\" is 2; this freshet reads format 1"));
  EXPECT_EQ(Doc(R"({"format":"2"})")->root().CheckFormat("format", 1).code(), StatusCode::kDataLoss);
  EXPECT_EQ(Doc(R"({})")->root().CheckFormat("format", 1).code(), StatusCode::kDataLoss);
}

TEST(JsonReaderTest, DeepNestingAndBadUtf8AreErrorsNotCrashes) {
  EXPECT_EQ(JsonDocument::Parse(std::string(100000, '['), "thing", 1 << 20).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Doc("{\"a\":\"\xff\xfe\"}").status().code(), StatusCode::kDataLoss);
}

// Found by libFuzzer (index_manifest_fuzz): rapidjson decodes an escaped
// lone low surrogate into bytes that are not UTF-8, so a manifest with one
// parsed but wrote back as JSON no reader accepts. Such strings are damage.
TEST(JsonReaderTest, AnEscapedLoneSurrogateIsNotAString) {
  auto doc = Doc(R"({"s":"ok\udc00","a":["x","\udfff"],"fine":"caf\u00e9 \ud83d\ude00"})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  std::string s;
  Status st = doc->root().ReadString("s", &s);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("\"s\" is not valid UTF-8"), std::string::npos) << st.ToString();
  std::vector<std::string> a;
  st = doc->root().ReadStringArray("a", &a);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("a[1]"), std::string::npos) << st.ToString();
  ASSERT_TRUE(doc->root().ReadString("fine", &s).ok());
  EXPECT_EQ(s, "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace freshet
