#include "freshet/status.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  FRESHET_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(StatusTest, CodesAndRetryMeaning) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_TRUE(Status::Unavailable("x").retryable());
  EXPECT_TRUE(Status::DeadlineExceeded("x").retryable());
  EXPECT_FALSE(Status::DataLoss("x").retryable());
  EXPECT_FALSE(Status::InvalidArgument("x").retryable());
  EXPECT_EQ(Status::NotFound("k").WithContext("get a/b").ToString(), "NotFound: get a/b: k");
}

TEST(StatusTest, ResultPropagates) {
  int v = 0;
  EXPECT_TRUE(UseHalf(4, &v).ok());
  EXPECT_EQ(v, 2);
  Status st = UseHalf(3, &v);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace freshet
