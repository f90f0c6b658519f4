#include "gen/malformed_lines.h"

#include <gtest/gtest.h>

#include <set>

#include "gen/generated_input.h"

namespace freshet::gen {
namespace {

TEST(MalformedLinesTest, EveryKindIsRejectedByAStrictReader) {
  const std::string good =
      R"({"type":"ad","id":"a00000001","ad_group_id":"g00000001","version":1764000000123,"status":"ACTIVE","deleted":false,"title":"Café ok"})";
  ASSERT_TRUE(gen_test::ParseRecord(good).has_value());
  for (bool flat : {false, true}) {
    SeededRandom rng(flat ? 1 : 2);
    std::set<MalformedKind> kinds;
    for (uint64_t serial = 1; serial <= 2000; ++serial) {
      std::string out;
      MalformedKind kind = AppendMalformedLine(rng, good, serial, flat, 1764000000999, &out);
      kinds.insert(kind);
      ASSERT_FALSE(out.empty());
      ASSERT_EQ(out.back(), '\n');
      std::string_view line(out.data(), out.size() - 1);
      ASSERT_EQ(line.find('\n'), std::string_view::npos) << MalformedKindName(kind);
      ASSERT_FALSE(line.empty());
      EXPECT_FALSE(gen_test::ParseRecord(line).has_value()) << MalformedKindName(kind) << ": " << line;
      if (kind != MalformedKind::kTruncatedJson) {
        EXPECT_EQ(line.find("\"a00000001\""), std::string_view::npos) << "real ids only in truncated lines";
      }
    }
    EXPECT_EQ(kinds.size(), static_cast<size_t>(kMalformedKindCount));
  }
}

}  // namespace
}  // namespace freshet::gen
