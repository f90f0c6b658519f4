#include "sink/checkpoint.h"
#include "testing/times.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace freshet {
namespace {

using ::testing::HasSubstr;

using testing::T;

Checkpoint FullCheckpoint() {
  Checkpoint cp;
  cp.watermark = T("2026-11-22T14:05:00Z");
  cp.base_snapshot = T("2026-11-22T12:00:00Z");
  cp.base_generation = "full/20261122T120000Z-0123456789abcdef";
  cp.delta_generation = "delta/20261122T140500Z-fedcba9876543210";
  cp.chain = {"delta/20261122T135500Z-3333333333333333", "delta/20261122T140000Z-1111111111111111",
              cp.delta_generation};
  cp.chain_bytes = {40000, 1000, 200};
  cp.pending_merge = Checkpoint::PendingMerge{0, {cp.chain[0], cp.chain[1]}, "delta/20261122T140000Z-m0123456789abcd"};
  cp.retired = {{"delta/20261122T135500Z-2222222222222222", 48}};
  cp.build_salt = "schema:9f2c/format:1";
  cp.next_batch_id = 42;
  cp.recent.push_back({40, BatchKind::kFullAndDelta, T("2026-11-22T14:00:00Z"), cp.base_generation,
                       "delta/20261122T140000Z-1111111111111111"});
  cp.recent.push_back({41, BatchKind::kDelta, T("2026-11-22T14:05:00Z"), cp.base_generation, cp.delta_generation});
  return cp;
}

TEST(CheckpointTest, EncodeIsDeterministicAndReadable) {
  Checkpoint cp = FullCheckpoint();
  std::string json = EncodeCheckpoint(cp);
  EXPECT_EQ(json, EncodeCheckpoint(cp));
  EXPECT_EQ(json.rfind("{\"format\":1,", 0), 0u) << json;
  EXPECT_THAT(json, HasSubstr("\"watermark\":\"2026-11-22T14:05:00Z\""));
  EXPECT_THAT(json, HasSubstr("\"kind\":\"full_and_delta\""));
  EXPECT_EQ(EncodeCheckpoint(Checkpoint{}),
            "{\"format\":1,\"watermark\":null,\"base_snapshot\":null,\"base_generation\":\"\","
            "\"delta_generation\":\"\",\"chain\":[],\"chain_bytes\":[],\"pending_merge\":null,\"retired\":[],"
            "\"build_salt\":\"\",\"next_batch_id\":1,"
            "\"recent\":[]}");
}

TEST(CheckpointTest, RoundTrips) {
  Checkpoint with_none_target = FullCheckpoint();
  with_none_target.recent[0].target.reset();
  Checkpoint big_id;
  big_id.next_batch_id = UINT64_MAX;
  Checkpoint odd_strings;
  odd_strings.build_salt = std::string("quote\" backslash\\ nul\0 utf8 \xc3\xa9", 30);
  odd_strings.watermark = T("2026-11-22T14:05:00.250Z");
  for (const Checkpoint& cp : {Checkpoint{}, FullCheckpoint(), with_none_target, big_id, odd_strings}) {
    std::string json = EncodeCheckpoint(cp);
    auto back = DecodeCheckpoint(json);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
    EXPECT_EQ(*back, cp) << json;
    EXPECT_EQ(EncodeCheckpoint(*back), json);
  }
}

TEST(CheckpointTest, ChainIsOptionalAndMustEndWithTheDelta) {
  // Written before chains: no "chain" or "retired"; the delta is a chain of one.
  const std::string old_format =
      "{\"format\":1,\"watermark\":null,\"base_snapshot\":null,\"base_generation\":\"f\","
      "\"delta_generation\":\"d\",\"build_salt\":\"\",\"next_batch_id\":1,\"recent\":[]}";
  auto old = DecodeCheckpoint(old_format);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->chain, std::vector<std::string>{"d"});
  EXPECT_TRUE(old->retired.empty());

  Checkpoint cp = FullCheckpoint();
  cp.chain.back() = "delta/other";
  auto bad = DecodeCheckpoint(EncodeCheckpoint(cp));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("\"chain\""));

  // A pending merge must name segments of the chain, in place.
  cp = FullCheckpoint();
  cp.pending_merge->begin = 1;
  auto misplaced = DecodeCheckpoint(EncodeCheckpoint(cp));
  ASSERT_FALSE(misplaced.ok());
  EXPECT_THAT(misplaced.status().message(), HasSubstr("\"pending_merge\""));
}

TEST(CheckpointTest, StaysSmall) {
  Checkpoint cp = FullCheckpoint();
  while (cp.recent.size() < kMaxRecentBatches) cp.recent.push_back(cp.recent.back());
  EXPECT_LT(EncodeCheckpoint(cp).size(), 2500u);
  // A chain at the merge policy's cap (24) with as many segments retired:
  // still a few KB, whatever the history.
  cp.chain.insert(cp.chain.begin(), 21, "delta/20261122T130000Z-4444444444444444");
  cp.chain_bytes.insert(cp.chain_bytes.begin(), 21, 123456789);
  const Checkpoint::Retired retired{std::string(39, 'r'), 99};
  cp.retired.assign(24, retired);
  EXPECT_LT(EncodeCheckpoint(cp).size(), 6000u);
}

struct RejectCase {
  std::string json;
  StatusCode code;
  const char* message_part;
};

// A valid encoding with one substring replaced.
std::string Edit(std::string_view from, std::string_view to) {
  std::string json = EncodeCheckpoint(FullCheckpoint());
  size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  return json;
}

TEST(CheckpointTest, DecodeRejectsNamingTheKey) {
  const RejectCase cases[] = {
      {"", StatusCode::kDataLoss, "not valid JSON"},
      {"{\"format\":1", StatusCode::kDataLoss, "not valid JSON"},
      {"[]", StatusCode::kDataLoss, "not a JSON object"},
      {"{}", StatusCode::kDataLoss, "missing key \"format\""},
      {Edit("\"format\":1", "\"format\":2"), StatusCode::kFailedPrecondition, "reads format 1"},
      {Edit("\"format\":1", "\"format\":\"1\""), StatusCode::kDataLoss, "\"format\" is not an integer"},
      {Edit("\"watermark\":\"2026-11-22T14:05:00Z\"", "\"watermark\":\"yesterday\""), StatusCode::kDataLoss,
       "\"watermark\""},
      {Edit("\"watermark\":\"2026-11-22T14:05:00Z\"", "\"watermark\":5"), StatusCode::kDataLoss, "\"watermark\""},
      {Edit("\"base_snapshot\":\"2026-11-22T12:00:00Z\"", "\"base_snapshot\":\"2026-02-30T12:00:00Z\""),
       StatusCode::kDataLoss, "\"base_snapshot\""},
      {Edit("\"build_salt\":\"schema:9f2c/format:1\"", "\"build_salt\":7"), StatusCode::kDataLoss,
       "\"build_salt\" is not a string"},
      {Edit("\"next_batch_id\":42", "\"next_batch_id\":-1"), StatusCode::kDataLoss, "\"next_batch_id\""},
      {Edit("\"next_batch_id\":42", "\"next_batch_id\":0"), StatusCode::kDataLoss, "\"next_batch_id\" is 0"},
      {Edit("\"next_batch_id\":42", "\"next_batch_id\":4.5"), StatusCode::kDataLoss, "\"next_batch_id\""},
      {Edit("\"next_batch_id\":42,", ""), StatusCode::kDataLoss, "missing key \"next_batch_id\""},
      {Edit("\"format\":1,", "\"format\":1,\"files\":[],"), StatusCode::kDataLoss, "unknown key \"files\""},
      {Edit("\"format\":1,", "\"format\":1,\"watermark\":null,"), StatusCode::kDataLoss, "repeats"},
      {Edit("\"recent\":[", "\"recent\":{\"a\":["), StatusCode::kDataLoss, "not valid JSON"},
      {Edit("\"recent\":[{", "\"recent\":[7,{"), StatusCode::kDataLoss, "\"recent[0]\" is not an object"},
      {Edit("\"kind\":\"delta\"", "\"kind\":\"incremental\""), StatusCode::kDataLoss, "\"recent[1].kind\""},
      {Edit("\"batch_id\":41,", ""), StatusCode::kDataLoss, "missing key \"recent[1].batch_id\""},
      {Edit("\"batch_id\":41,", "\"batch_id\":41,\"size\":3,"), StatusCode::kDataLoss,
       "unknown key \"recent[1].size\""},
      {Edit("\"target\":\"2026-11-22T14:05:00Z\"", "\"target\":\"14:05\""), StatusCode::kDataLoss,
       "\"recent[1].target\""},
      {Edit("\"recent\":[", "\"recent\":[" + std::string(300000, '[')), StatusCode::kDataLoss, "bytes"},
      {std::string(100, '[') + std::string(100, ']'), StatusCode::kDataLoss, "not a JSON object"},
      {Edit("schema:9f2c", "schema:\xff\xfe"), StatusCode::kDataLoss, "not valid JSON"},
  };
  for (const auto& c : cases) {
    auto r = DecodeCheckpoint(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_part)) << c.json;
  }
}

TEST(CheckpointTest, RejectsMoreThanTheRecentLimit) {
  Checkpoint cp = FullCheckpoint();
  while (cp.recent.size() <= kMaxRecentBatches) cp.recent.push_back(cp.recent.back());
  auto r = DecodeCheckpoint(EncodeCheckpoint(cp));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"recent\" has 9 entries"));
}

TEST(CheckpointTest, BatchKindNames) {
  for (BatchKind k : {BatchKind::kDelta, BatchKind::kFullAndDelta}) EXPECT_EQ(ParseBatchKind(BatchKindName(k)), k);
  EXPECT_EQ(ParseBatchKind("full"), std::nullopt);
}

}  // namespace
}  // namespace freshet
