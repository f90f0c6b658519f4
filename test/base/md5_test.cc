#include "base/md5.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace freshet {
namespace {

TEST(Md5Test, KnownVectors) {
  // RFC 1321 appendix A.5.
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
  EXPECT_EQ(Md5Hex(std::string_view("\0\xff", 2)), Md5Hex(std::string("\0\xff", 2)));
}

TEST(Md5Test, StreamingMatchesOneShotAndResets) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 31 + 7);
  Md5Hasher h;
  for (size_t pos = 0; pos < data.size(); pos += 777) h.Update(std::string_view(data).substr(pos, 777));
  EXPECT_EQ(h.FinishHex(), Md5Hex(data));
  h.Update("abc");  // reusable after FinishHex
  EXPECT_EQ(h.FinishHex(), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(h.FinishHex(), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Md5Test, Files) {
  testing::TempDir dir("md5");
  std::string big(300000, 'x');
  big[12345] = 'y';
  {
    std::ofstream(dir.Join("big"), std::ios::binary) << big;
    std::ofstream(dir.Join("empty"), std::ios::binary);
  }
  Result<std::string> r = Md5HexOfFile(dir.Join("big"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Md5Hex(big));
  r = Md5HexOfFile(dir.Join("empty"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Md5Hex(""));
  EXPECT_EQ(Md5HexOfFile(dir.Join("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_NE(Md5HexOfFile(dir.path()).status().code(), StatusCode::kOk);  // a directory cannot be read
}

}  // namespace
}  // namespace freshet
