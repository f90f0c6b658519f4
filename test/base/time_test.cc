#include "freshet/time.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

TEST(TimeTest, Rfc3339RoundTrip) {
  auto t = ParseRfc3339("2026-11-22T14:05:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-22T14:05:00Z");
  int64_t us = 0;
  auto u = ParseRfc3339("2026-11-22T15:05:00.123456+01:00", &us);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(FormatRfc3339(*u), "2026-11-22T14:05:00.123Z");
  EXPECT_EQ(us % 1000000, 123456);
}

TEST(TimeTest, Rfc3339Rejects) {
  for (const char* s : {"", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T14:05:00", "2026-11-22T14:05:00Zx",
                        "2026-02-30T00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(s).ok()) << s;
  }
}

TEST(TimeTest, Durations) {
  EXPECT_EQ(ParseDuration("30s")->count(), 30000);
  EXPECT_EQ(ParseDuration("5m")->count(), 300000);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400000);
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("30").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_FALSE(ParseDuration("5 weeks").ok());
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(5400250)), "1h30m250ms");
  EXPECT_EQ(*ParseDuration(FormatDuration(std::chrono::hours(24))), std::chrono::hours(24));
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {
TEST(TimeTest, HugeDurationsAreRejectedNotOverflowed) {
  EXPECT_FALSE(ParseDuration("999999999999d").ok());
  EXPECT_FALSE(ParseDuration("900000000000h900000000000h").ok());
}
}  // namespace
}  // namespace freshet

namespace freshet {
namespace {
TEST(TimeTest, DurationErrorsSayWhatIsMissing) {
  auto r = ParseDuration("5 minutes");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected a unit"), std::string::npos) << r.status().message();
}
}  // namespace
}  // namespace freshet
