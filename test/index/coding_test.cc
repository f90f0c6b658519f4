#include "index/coding.h"

#include <gtest/gtest.h>

#include "index/checksum.h"

namespace freshet {
namespace {

TEST(CodingTest, Fixed) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(s.substr(0, 4), std::string("\x01\x02\x03\x04"));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0807060504030201ull);
}

TEST(CodingTest, VarintRoundTrip) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 300, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                                  (1ull << 63), UINT64_MAX};
  for (int shift = 0; shift < 64; ++shift) values.push_back((1ull << shift) - 1);
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string_view in = s;
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  for (uint64_t v : values) {
    std::string one;
    PutVarint64(&one, v);
    EXPECT_EQ(one.size(), static_cast<size_t>(VarintLength(v)));
  }
}

TEST(CodingTest, VarintRejectsTruncatedAndOverlong) {
  std::string s;
  PutVarint64(&s, 1ull << 40);
  for (size_t n = 0; n < s.size(); ++n) {
    std::string_view in(s.data(), n);
    uint64_t v;
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
  }
  std::string eleven(10, '\x80');
  eleven.push_back('\x01');
  std::string_view in = eleven;
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  // Tenth byte may only carry bit 63.
  std::string overflow(9, '\xFF');
  overflow.push_back('\x02');
  in = overflow;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(CodingTest, Varint32RejectsLargeValues) {
  std::string s;
  PutVarint64(&s, 1ull << 32);
  std::string_view in = s;
  uint32_t v;
  EXPECT_FALSE(GetVarint32(&in, &v));
  s.clear();
  PutVarint32(&s, UINT32_MAX);
  in = s;
  ASSERT_TRUE(GetVarint32(&in, &v));
  EXPECT_EQ(v, UINT32_MAX);
}

TEST(CodingTest, LengthPrefixed) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  PutLengthPrefixed(&s, "");
  PutLengthPrefixed(&s, std::string(300, 'x'));
  std::string_view in = s, out;
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(out, std::string(300, 'x'));
  EXPECT_TRUE(in.empty());
  std::string bad;
  PutVarint64(&bad, 10);
  bad += "short";
  in = bad;
  EXPECT_FALSE(GetLengthPrefixed(&in, &out));
}

TEST(ChecksumTest, KnownValues) {
  // XXH64("", seed 0) is the published test vector.
  EXPECT_EQ(Xxh64Hex(""), "ef46db3751d8e999");
  EXPECT_EQ(Xxh64(""), 0xef46db3751d8e999ull);
  EXPECT_EQ(Xxh64ToHex(0x0123456789abcdefull), "0123456789abcdef");
  Xxh64Stream s;
  s.Update("hello ");
  s.Update("world");
  EXPECT_EQ(s.Digest(), Xxh64("hello world"));
}

}  // namespace
}  // namespace freshet
