#include "ingest/object_decoder.h"

#include <gtest/gtest.h>
#include <lz4frame.h>

#include <random>
#include <string>

namespace freshet {
namespace {

std::string Lz4Frame(const std::string& plain, bool content_size = false, bool checksum = true) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.contentSize = content_size ? plain.size() : 0;
  std::string out(LZ4F_compressFrameBound(plain.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), plain.data(), plain.size(), &prefs);
  EXPECT_FALSE(LZ4F_isError(n)) << LZ4F_getErrorName(n);
  out.resize(n);
  return out;
}

std::string SomeNdjson(size_t lines) {
  std::mt19937 rng(7);
  std::string s;
  for (size_t i = 0; i < lines; ++i) {
    s += "{\"id\":\"ad-" + std::to_string(i) + "\",\"version\":" + std::to_string(rng()) + ",\"title\":\"";
    for (int k = 0; k < 40; ++k) s.push_back(static_cast<char>('a' + rng() % 26));
    s += "\"}\n";
  }
  return s;
}

TEST(ObjectDecoderTest, PlainBytesPassThrough) {
  Result<std::string> r = DecodeObject("updates/2026/part-0.ndjson", "{\"id\":\"a\"}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "{\"id\":\"a\"}\n");
  Result<std::string> empty = DecodeObject("x", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(ObjectDecoderTest, Lz4FrameRoundTripWhateverTheSuffix) {
  const std::string plain = SomeNdjson(20000);  // ~1.3 MB: several 64 KiB blocks
  for (bool content_size : {false, true}) {
    const std::string frame = Lz4Frame(plain, content_size);
    for (const char* key : {"p/part-0.ndjson.lz4", "p/part-0.ndjson", "p/noext"}) {
      Result<std::string> r = DecodeObject(key, frame);
      ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
      EXPECT_EQ(*r, plain) << key;
    }
  }
}

TEST(ObjectDecoderTest, ConcatenatedFramesAndEmptyFrame) {
  const std::string a = SomeNdjson(10), b = SomeNdjson(3);
  Result<std::string> r = DecodeObject("k.lz4", Lz4Frame(a) + Lz4Frame("") + Lz4Frame(b));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, a + b);
}

TEST(ObjectDecoderTest, ViewAvoidsCopyingPlainObjects) {
  const std::string plain = "{\"id\":\"a\"}\n";
  std::string storage;
  Result<std::string_view> v = DecodeObjectView("k", plain, &storage);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->data(), plain.data());
  const std::string frame = Lz4Frame(plain);
  Result<std::string_view> d = DecodeObjectView("k.lz4", frame, &storage);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, plain);
  EXPECT_EQ(d->data(), storage.data());
}

TEST(ObjectDecoderTest, TruncatedFrameIsDataLossNamingTheKey) {
  const std::string frame = Lz4Frame(SomeNdjson(2000));
  for (size_t cut : {size_t{4}, size_t{7}, frame.size() / 2, frame.size() - 5, frame.size() - 1}) {
    Result<std::string> r = DecodeObject("updates/x/part-7.lz4", frame.substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << cut;
    EXPECT_NE(r.status().message().find("updates/x/part-7.lz4"), std::string::npos) << r.status().message();
  }
}

TEST(ObjectDecoderTest, CorruptFrameIsDataLoss) {
  std::string frame = Lz4Frame(SomeNdjson(2000));
  frame[frame.size() / 2] ^= 0x5a;  // caught by the block or content checksum
  Result<std::string> r = DecodeObject("k", frame);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);

  Result<std::string> trailing = DecodeObject("k", Lz4Frame("abc") + "garbage!");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().code(), StatusCode::kDataLoss);
}

TEST(ObjectDecoderTest, Lz4SuffixWithoutMagicIsDataLoss) {
  Result<std::string> r = DecodeObject("updates/part-1.ndjson.lz4", "{\"id\":\"a\"}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("updates/part-1.ndjson.lz4"), std::string::npos);
}

TEST(ObjectDecoderTest, DecodedSizeCap) {
  const std::string plain(1 << 20, 'x');
  DecodeOptions small;
  small.max_decoded_bytes = 1000;
  for (bool content_size : {false, true}) {
    Result<std::string> r = DecodeObject("bomb.lz4", Lz4Frame(plain, content_size), small);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("cap"), std::string::npos) << r.status().message();
  }
  DecodeOptions exact;
  exact.max_decoded_bytes = plain.size();
  Result<std::string> ok = DecodeObject("fits.lz4", Lz4Frame(plain), exact);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), plain.size());
}

TEST(ObjectDecoderTest, IgnoredObjects) {
  EXPECT_TRUE(IsIgnoredObject("updates/2026/_SUCCESS", 0));
  EXPECT_TRUE(IsIgnoredObject("updates/2026/_SUCCESS", 10));
  EXPECT_TRUE(IsIgnoredObject("updates/2026/_metadata", 10));
  EXPECT_TRUE(IsIgnoredObject("updates/2026/.part-0.crc", 10));
  EXPECT_TRUE(IsIgnoredObject("updates/2026/part-0.ndjson", 0));
  EXPECT_TRUE(IsIgnoredObject("updates/2026/", 10));
  EXPECT_FALSE(IsIgnoredObject("updates/2026/part-0.ndjson", 10));
  EXPECT_FALSE(IsIgnoredObject("_data/updates/part-0.ndjson", 10));
  EXPECT_FALSE(IsIgnoredObject("part-0", 1));
  EXPECT_TRUE(IsIgnoredObject("_SUCCESS", 1));
}

}  // namespace
}  // namespace freshet
