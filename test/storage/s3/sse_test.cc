#include "storage/s3/sse.h"

#include <gtest/gtest.h>

namespace freshet::s3 {
namespace {

// The SSE-C example key and its MD5 from the AWS documentation's shape:
// 32 bytes of 0x00..0x1f, base64.
constexpr char kKey[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

std::string Header(const HttpHeaders& h, const std::string& name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return "";
}

TEST(SseTest, NothingAskedNothingSent) {
  auto sse = SseFromOptions(S3Options{});
  ASSERT_TRUE(sse.ok());
  HttpHeaders h;
  AddCreateHeaders(*sse, &h);
  AddCustomerKeyHeaders(*sse, &h);
  EXPECT_TRUE(h.empty());
}

TEST(SseTest, KmsOnCreateOnly) {
  S3Options o;
  o.sse = "aws:kms";
  o.sse_kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/k";
  auto sse = SseFromOptions(o);
  ASSERT_TRUE(sse.ok()) << sse.status().ToString();
  HttpHeaders create, read;
  AddCreateHeaders(*sse, &create);
  AddCustomerKeyHeaders(*sse, &read);
  EXPECT_EQ(Header(create, "x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(Header(create, "x-amz-server-side-encryption-aws-kms-key-id"), o.sse_kms_key_id);
  EXPECT_TRUE(read.empty()) << "S3 decrypts SSE-KMS reads by itself";
}

TEST(SseTest, CustomerKeyOnEveryObjectRequestWithItsMd5) {
  S3Options o;
  o.sse_customer_key = kKey;
  auto sse = SseFromOptions(o);
  ASSERT_TRUE(sse.ok()) << sse.status().ToString();
  EXPECT_TRUE(sse->customer());
  HttpHeaders read;
  AddCustomerKeyHeaders(*sse, &read);
  EXPECT_EQ(Header(read, "x-amz-server-side-encryption-customer-algorithm"), "AES256");
  EXPECT_EQ(Header(read, "x-amz-server-side-encryption-customer-key"), kKey);
  // MD5 of bytes 0x00..0x1f: b4ffcb23737cec315a4a4d1aa2a620ce.
  EXPECT_EQ(Header(read, "x-amz-server-side-encryption-customer-key-md5"), "tP/LI3N87DFaSk0aoqYgzg==");
  HttpHeaders create;
  AddCreateHeaders(*sse, &create);
  EXPECT_EQ(create, read) << "no x-amz-server-side-encryption with SSE-C";
}

TEST(SseTest, BadSettingsNameTheKeyButNeverTheSecret) {
  S3Options o;
  o.sse = "aes";
  EXPECT_NE(SseFromOptions(o).status().message().find("s3.sse:"), std::string::npos);
  o = {};
  o.sse_kms_key_id = "k";
  EXPECT_NE(SseFromOptions(o).status().message().find("s3.sse_kms_key_id"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh==",
                          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "not base64 at all, but 44 chars long!!!!!!",
                          std::string(kKey) + "AAAA"}) {
    o = {};
    o.sse_customer_key = bad;
    Status st = SseFromOptions(o).status();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("s3.sse_customer_key"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(bad), std::string::npos) << st.message();
  }
  o = {};
  o.sse = "AES256";
  o.sse_customer_key = kKey;
  Status both = SseFromOptions(o).status();
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(both.message().find(kKey), std::string::npos);
}

}  // namespace
}  // namespace freshet::s3
