#include "gen/json_line_writer.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace freshet::gen {
namespace {

std::string ParseStringField(const std::string& line, const char* key) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  EXPECT_FALSE(d.HasParseError()) << line;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember(key) || !d[key].IsString()) return "<missing>";
  return std::string(d[key].GetString(), d[key].GetStringLength());
}

TEST(JsonLineWriterTest, WritesOneObjectPerLineInCallOrder) {
  std::string out;
  JsonLineWriter w(&out);
  w.Begin();
  w.String("id", "a1");
  w.Int("version", -17);
  w.Bool("deleted", false);
  w.StringArray("keywords", {"x", "y z"});
  w.Raw("extra", "null");
  w.End();
  EXPECT_EQ(out, R"({"id":"a1","version":-17,"deleted":false,"keywords":["x","y z"],"extra":null})" "\n");
}

TEST(JsonLineWriterTest, EscapesWhatJsonRequires) {
  const std::string tricky = std::string("q\"b\\s/ \n\r\t\b\f ctl\x01\x1f end") + '\0' + "nul";
  std::string out;
  AppendJsonString(&out, tricky);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_NE(out.find("\\u0001"), std::string::npos);
  EXPECT_NE(out.find("\\u0000"), std::string::npos);
  std::string line = "{\"s\":" + out + "}";
  EXPECT_EQ(ParseStringField(line, "s"), tricky);
}

TEST(JsonLineWriterTest, NonAsciiIsKeptOrEscapedAndReadsBackTheSame) {
  const std::string text = "café Straße 東京 москва ｆｕｌｌ 🚀 end";
  for (bool escape : {false, true}) {
    std::string out;
    AppendJsonString(&out, text, escape);
    bool ascii = true;
    for (char c : out) ascii &= static_cast<unsigned char>(c) < 0x80;
    EXPECT_EQ(ascii, escape) << out;
    EXPECT_EQ(ParseStringField("{\"s\":" + out + "}", "s"), text);
  }
  std::string rocket;
  AppendJsonString(&rocket, "🚀", /*escape_non_ascii=*/true);
  EXPECT_EQ(rocket, R"("\ud83d\ude80")");
}

}  // namespace
}  // namespace freshet::gen
