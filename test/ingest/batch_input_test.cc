#include "ingest/batch_input.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/lz4_frame.h"

namespace freshet {
namespace {

using testing::Lz4FrameOf;

std::pair<ObjectInfo, std::string> Obj(std::string key, std::string body) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = body.size();
  return {info, std::move(body)};
}

TEST(BatchInputTest, DecodesParsesAndQuarantines) {
  const std::string good_a = "{\"id\":\"a\",\"version\":1}\n{\"id\":\"b\",\"version\":1}\n";
  const std::string lz4 = Lz4FrameOf("{\"id\":\"c\",\"version\":1}\nbroken\n");
  std::string truncated = Lz4FrameOf("{\"id\":\"d\",\"version\":1}\n");
  truncated.resize(truncated.size() - 3);
  std::vector<std::pair<ObjectInfo, std::string>> objects = {
      Obj("p/part-2.lz4", lz4),       Obj("p/_SUCCESS", ""),          Obj("p/part-1.ndjson", good_a),
      Obj("p/part-3.lz4", truncated), Obj("p/.part-1.ndjson.crc", "x"), Obj("p/empty.ndjson", ""),
  };
  DecodedInput in = DecodeAndParse(DefaultFlatSchema(), objects);
  EXPECT_EQ(in.objects, 3u);
  EXPECT_EQ(in.ignored_objects, 3u);
  EXPECT_EQ(in.bytes, good_a.size() + lz4.size() + truncated.size());
  EXPECT_EQ(in.records_total, 5u);  // a, b, c, broken, the corrupt object
  EXPECT_EQ(in.corrupt_objects, 1u);
  ASSERT_EQ(in.records.size(), 3u);
  // Ascending key order: part-1 before part-2.
  EXPECT_EQ(in.records[0].id, "a");
  EXPECT_EQ(in.records[1].id, "b");
  EXPECT_EQ(in.records[2].id, "c");
  EXPECT_EQ(in.records[2].source, "p/part-2.lz4");
  ASSERT_EQ(in.bad.size(), 2u);
  EXPECT_EQ(in.bad[0].source, "p/part-2.lz4");
  EXPECT_EQ(in.bad[0].line, 2u);
  EXPECT_EQ(ReasonKind(in.bad[0].reason), kReasonInvalidJson);
  EXPECT_EQ(in.bad[1].source, "p/part-3.lz4");
  EXPECT_EQ(in.bad[1].line, 0u);
  EXPECT_EQ(ReasonKind(in.bad[1].reason), kReasonCorruptObject);
  EXPECT_NE(in.bad[1].reason.find("truncated"), std::string::npos) << in.bad[1].reason;
  // The frame magic: valid (if unprintable) UTF-8 is kept as is.
  EXPECT_EQ(in.bad[1].excerpt.substr(0, 4), "\x04\"M\x18");
}

TEST(BatchInputTest, QuarantineNdjsonIsSortedAndEscaped) {
  std::vector<QuarantineEntry> bad = {
      {"b", 2, "invalid JSON: x (column 1)", "{"},
      {"a", 10, "missing id", "{\"v\":1}"},
      {"a", 9, "invalid UTF-8", "\\xff\ttab"},
      {"a", 10, "invalid version: y", "{}"},
  };
  const std::string expected =
      R"J({"source":"a","line":9,"reason":"invalid UTF-8","excerpt":"\\xff\ttab"})J" "\n"
      R"J({"source":"a","line":10,"reason":"invalid version: y","excerpt":"{}"})J" "\n"
      R"J({"source":"a","line":10,"reason":"missing id","excerpt":"{\"v\":1}"})J" "\n"
      R"J({"source":"b","line":2,"reason":"invalid JSON: x (column 1)","excerpt":"{"})J" "\n";
  EXPECT_EQ(QuarantineNdjson(bad), expected);
  std::reverse(bad.begin(), bad.end());
  EXPECT_EQ(QuarantineNdjson(bad), expected);
  EXPECT_EQ(QuarantineNdjson({}), "");
}

TEST(BatchInputTest, BadRatioGate) {
  EXPECT_TRUE(CheckBadRatio(0, 0, 0.01).ok());
  EXPECT_TRUE(CheckBadRatio(1, 100, 0.01).ok());
  EXPECT_TRUE(CheckBadRatio(0, 100, 0.0).ok());
  Status st = CheckBadRatio(2, 100, 0.01);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "bad-record ratio 0.02 (2 of 100 records) exceeds max_bad_ratio 0.01");
  EXPECT_EQ(CheckBadRatio(1, 1, 0.5).code(), StatusCode::kFailedPrecondition);
}

// The regression: the largest object of an input truncated counted as ONE
// bad record, so a batch missing most of its records passed a 1% limit.
TEST(BatchInputTest, ACorruptObjectWeighsWhatItWouldHaveHeld) {
  std::vector<std::pair<ObjectInfo, std::string>> objects;
  std::string small;
  for (int i = 0; i < 20; ++i) small += "{\"id\":\"s" + std::to_string(i) + "\",\"version\":1}\n";
  for (int o = 0; o < 5; ++o) objects.push_back(Obj("p/part-" + std::to_string(o) + ".ndjson", small));
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "{\"id\":\"b" + std::to_string(i) + "\",\"version\":1}\n";
  std::string truncated = Lz4FrameOf(big);
  truncated.resize(truncated.size() / 2);
  objects.push_back(Obj("p/part-9.lz4", truncated));
  DecodedInput in = DecodeAndParse(DefaultFlatSchema(), objects);
  ASSERT_EQ(in.corrupt_objects, 1u);
  EXPECT_EQ(in.corrupt_bytes, truncated.size());
  EXPECT_EQ(in.records_total, 101u);  // 100 good + the corrupt object as one
  EXPECT_TRUE(CheckBadRatio(1, 101, 0.01).ok()) << "the old count let it through";
  // 100 records in 5 * small.size() bytes: the corrupt bytes at that rate.
  const uint64_t per_byte_estimate = (truncated.size() * 100 + 5 * small.size() - 1) / (5 * small.size());
  EXPECT_EQ(EstimatedCorruptRecords(in), per_byte_estimate);
  EXPECT_GT(EstimatedCorruptRecords(in), 10u);
  Status st = CheckBadRatio(in, 0.01);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("in 1 corrupt object"), std::string::npos) << st.message();
}

TEST(BatchInputTest, CorruptEstimateEdges) {
  DecodedInput none;
  none.records_total = 10;
  none.bytes = 100;
  EXPECT_EQ(EstimatedCorruptRecords(none), 0u);
  EXPECT_TRUE(CheckBadRatio(none, 0.0).ok());
  DecodedInput all_corrupt;  // nothing decodable to estimate from: one each
  all_corrupt.corrupt_objects = all_corrupt.records_total = 2;
  all_corrupt.bytes = all_corrupt.corrupt_bytes = 1000;
  all_corrupt.bad.resize(2);
  EXPECT_EQ(EstimatedCorruptRecords(all_corrupt), 2u);
  EXPECT_FALSE(CheckBadRatio(all_corrupt, 0.5).ok());
  DecodedInput tiny;  // a small corrupt object still counts as at least one
  tiny.corrupt_objects = 1;
  tiny.records_total = 1001;
  tiny.bytes = 100'001;
  tiny.corrupt_bytes = 1;
  tiny.bad.resize(1);
  EXPECT_EQ(EstimatedCorruptRecords(tiny), 1u);
  EXPECT_TRUE(CheckBadRatio(tiny, 0.01).ok());
}

}  // namespace
}  // namespace freshet
