#include "sink/sink_layout.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

const TimePoint kT = FromUnixMillis(1'764'000'000'000);

CurrentPointer Sample() {
  CurrentPointer c;
  c.full = "full/20261122T120000Z-00000000000000aa";
  c.delta = "delta/20261122T140500Z-00000000000000bb";
  c.chain = {"delta/20261122T140000Z-00000000000000ab", c.delta};
  c.watermark = kT;
  c.checkpoint.watermark = kT;
  c.checkpoint.base_generation = c.full;
  c.checkpoint.delta_generation = c.delta;
  c.checkpoint.chain = c.chain;
  c.checkpoint.chain_bytes = {5000, 700};
  c.checkpoint.next_batch_id = 4;
  return c;
}

TEST(SinkLayoutTest, CurrentRoundTripsDeterministically) {
  CurrentPointer c = Sample();
  std::string a = EncodeCurrent(c);
  EXPECT_EQ(a, EncodeCurrent(c));
  auto back = DecodeCurrent(a);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(a.back(), '\n');
}

TEST(SinkLayoutTest, CurrentRejectsDamage) {
  std::string a = EncodeCurrent(Sample());
  EXPECT_EQ(DecodeCurrent(a.substr(0, a.size() / 2)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeCurrent("{\"format\":2}").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecodeCurrent("[]").status().code(), StatusCode::kDataLoss);
}

TEST(SinkLayoutTest, FileKeys) {
  EXPECT_EQ(GenerationFileKey("delta/x", "terms"), "delta/x/terms");
}

}  // namespace
}  // namespace freshet
