// Fixed times the tests share, and a short way to write one.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "freshet/time.h"

namespace freshet {

// 2025-11-24T16:00:00Z: a 5-minute (and hour) boundary.
inline const TimePoint kT0 = FromUnixMillis(1'764'000'000'000);

namespace testing {
// An RFC 3339 time; a typo fails the test instead of crashing it.
inline TimePoint T(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : TimePoint{};
}
}  // namespace testing

}  // namespace freshet
