#include "plan/partition_layout.h"
#include "testing/times.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace freshet {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr const char* kSlashes = "%Y/%m/%d/%H/%M";
constexpr const char* kHive = "dt=%Y-%m-%d/hr=%H/min=%M";

using testing::T;

PartitionLayout Layout(std::string_view pattern, Duration interval) {
  auto l = PartitionLayout::Create(pattern, interval);
  EXPECT_TRUE(l.ok()) << pattern << ": " << l.status().ToString();
  return std::move(l).value();
}

struct FormatCase {
  const char* pattern;
  Duration interval;
  const char* time;
  const char* folder;
};

TEST(PartitionLayoutTest, FormatAndParseRoundTrip) {
  const FormatCase cases[] = {
      {kSlashes, minutes(5), "2026-11-22T14:05:00Z", "2026/11/22/14/05/"},
      {kHive, minutes(5), "2026-11-22T14:05:00Z", "dt=2026-11-22/hr=14/min=05/"},
      // Month, year and day boundaries.
      {kSlashes, minutes(5), "2026-11-30T23:55:00Z", "2026/11/30/23/55/"},
      {kSlashes, minutes(5), "2026-12-01T00:00:00Z", "2026/12/01/00/00/"},
      {kHive, minutes(5), "2026-12-31T23:55:00Z", "dt=2026-12-31/hr=23/min=55/"},
      {kHive, minutes(5), "2027-01-01T00:00:00Z", "dt=2027-01-01/hr=00/min=00/"},
      // Leap days, including the century rules.
      {kSlashes, minutes(5), "2028-02-29T12:00:00Z", "2028/02/29/12/00/"},
      {kHive, minutes(1), "2000-02-29T00:01:00Z", "dt=2000-02-29/hr=00/min=01/"},
      {kSlashes, minutes(5), "2028-03-01T00:00:00Z", "2028/03/01/00/00/"},
      // Other granularities and literal text.
      {"%Y/%m/%d/%H", hours(1), "2026-11-22T14:00:00Z", "2026/11/22/14/"},
      {"%Y/%m/%d", hours(24), "2026-11-22T00:00:00Z", "2026/11/22/"},
      {"%Y/%m/%d/%H/%M/%S", seconds(30), "2026-11-22T14:05:30Z", "2026/11/22/14/05/30/"},
      {"%Y%m%d%H%M", minutes(15), "2026-11-22T14:45:00Z", "202611221445/"},
      {"v1/100%%/%Y-%m-%d/%H%M", minutes(10), "2026-11-22T14:50:00Z", "v1/100%/2026-11-22/1450/"},
      {"%Y/%m/%d/%H/%M/", minutes(5), "2026-11-22T14:05:00Z", "2026/11/22/14/05/"},  // trailing '/' dropped
      // A coarse interval under a fine pattern.
      {kSlashes, hours(2), "2026-11-22T14:00:00Z", "2026/11/22/14/00/"},
      // Before the epoch.
      {kSlashes, minutes(5), "1969-12-31T23:55:00Z", "1969/12/31/23/55/"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " " + c.time);
    PartitionLayout layout = Layout(c.pattern, c.interval);
    EXPECT_EQ(layout.Format(T(c.time)), c.folder);
    std::string_view rest;
    std::string key = std::string(c.folder) + "part-0001.json.lz4";
    auto parsed = layout.ParseKey(key, &rest);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, T(c.time));
    EXPECT_EQ(rest, "part-0001.json.lz4");
    // The folder alone (a common prefix) parses with an empty rest.
    auto folder = layout.ParseKey(c.folder, &rest);
    ASSERT_TRUE(folder.has_value());
    EXPECT_EQ(rest, "");
  }
}

TEST(PartitionLayoutTest, RoundTripEverySlotAcrossALeapYearBoundary) {
  for (const char* pattern : {kSlashes, kHive}) {
    PartitionLayout layout = Layout(pattern, minutes(5));
    std::string previous;
    for (TimePoint t = T("2028-02-28T22:00:00Z"); t < T("2028-03-01T02:00:00Z"); t += minutes(5)) {
      std::string folder = layout.Format(t);
      EXPECT_EQ(layout.ParseKey(folder), t) << folder;
      EXPECT_LT(previous, folder) << "folder names must sort in time order";
      previous = folder;
    }
  }
}

TEST(PartitionLayoutTest, FloorAlignsToTheInterval) {
  PartitionLayout layout = Layout(kSlashes, minutes(5));
  EXPECT_EQ(layout.Floor(T("2026-11-22T14:07:59.999Z")), T("2026-11-22T14:05:00Z"));
  EXPECT_EQ(layout.Floor(T("2026-11-22T14:05:00Z")), T("2026-11-22T14:05:00Z"));
  EXPECT_EQ(layout.Floor(T("1969-12-31T23:58:00Z")), T("1969-12-31T23:55:00Z"));
  EXPECT_EQ(layout.interval(), minutes(5));
  EXPECT_EQ(layout.pattern(), kSlashes);
}

TEST(PartitionLayoutTest, ParseKeyRejects) {
  PartitionLayout slashes = Layout(kSlashes, minutes(5));
  PartitionLayout hive = Layout(kHive, minutes(5));
  const char* bad_slashes[] = {
      "",
      "2026/11/22/14/05",          // no folder '/'
      "2026/11/22/14/",            // a level short
      "2026/11/22/14/03/",         // not aligned to 5m
      "2026/11/22/14/5/",          // one digit
      "2026/11/22/14/005/",        // three digits
      "026/11/22/14/05/",          // short year
      "20261/11/22/14/05/",        // long year
      "2026/13/22/14/05/",         // month 13
      "2026/00/22/14/05/",         // month 0
      "2026/11/00/14/05/",         // day 0
      "2026/11/31/14/05/",         // 31 November
      "2026/02/29/14/05/",         // not a leap year
      "1900/02/29/00/00/",         // century, not a leap year
      "2026/11/22/24/00/",         // hour 24
      "2026/11/22/14/60/",         // minute 60
      "2026/11/22/14/-5/",         // sign
      "2026/11/22/14/+5/",         // sign
      "2026/11/22/1 /05/",         // space
      "2026-11-22/14/05/",         // wrong literal
      "/2026/11/22/14/05/",        // leading slash
      "dt=2026-11-22/hr=14/min=05/",  // the other layout
  };
  for (const char* key : bad_slashes) EXPECT_EQ(slashes.ParseKey(key), std::nullopt) << key;
  const char* bad_hive[] = {
      "dt=2026-11-22/hr=14/min=05",    // no folder '/'
      "dt=2026-11-22/hr=14/min=07/",   // not aligned
      "dt=2026-11-22/hr=14/mn=05/",    // literal
      "DT=2026-11-22/hr=14/min=05/",   // case matters
      "dt=2026-02-30/hr=14/min=05/",   // 30 February
      "dt=2026-11-22/hr=14/min=05x/",  // junk after the last field
      "2026/11/22/14/05/",             // the other layout
  };
  for (const char* key : bad_hive) EXPECT_EQ(hive.ParseKey(key), std::nullopt) << key;
}

TEST(PartitionLayoutTest, ParseKeyIsTotalOnArbitraryBytes) {
  PartitionLayout layout = Layout(kHive, minutes(5));
  std::mt19937_64 rng(7);
  std::string valid = "dt=2026-11-22/hr=14/min=05/x";
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
    for (int e = 0; e < 3; ++e) {
      size_t at = rng() % (s.size() + 1);
      if (rng() % 2) {
        if (at < s.size()) s[at] = static_cast<char>(rng());
      } else {
        s.resize(at);
      }
    }
    auto t = layout.ParseKey(s);
    if (t) {
      // Whatever parses names a real, aligned slot whose folder is a prefix.
      EXPECT_EQ(s.rfind(layout.Format(*t), 0), 0u) << s;
    }
  }
}

struct LayoutRejectCase {
  const char* pattern;
  Duration interval;
  const char* message_part;
};

TEST(PartitionLayoutTest, CreateRejectsWithTheProblem) {
  const LayoutRejectCase cases[] = {
      {kSlashes, Duration(0), "must be positive"},
      {kSlashes, -minutes(5), "must be positive"},
      {kSlashes, Duration(1500), "whole number of seconds"},
      {kSlashes, minutes(7), "does not divide a day"},
      {kSlashes, hours(48), "does not divide a day"},
      {"", minutes(5), "empty"},
      {"/", minutes(5), "empty"},
      {"%Y/%m/%d/%H/%q", minutes(5), "unknown conversion %q"},
      {"%Y/%m/%d/%H/%M%", minutes(5), "lone '%'"},
      {"%Y/%m/%d/%H", minutes(5), "finest field %H"},  // hourly folders, 5m partitions
      {"%Y/%m/%d", hours(1), "finest field %d"},
      {"%Y/%m/%d/%H/%M", seconds(30), "finest field %M"},
      {kSlashes, seconds(90), "not a whole number of 1m"},
      {"%d/%m/%Y/%H/%M", minutes(5), "coarsest"},
      {"%Y/%m/%d/%H/%M/%M", minutes(5), "repeats %M"},
      {"%m/%d/%H/%M", minutes(5), "lacks %Y"},
      {"%Y/%m/%H/%M", minutes(5), "lacks %d"},
      {"%Y/%m/%d/%M", minutes(5), "%M without %H"},
      {"/%Y/%m/%d/%H/%M", minutes(5), "starts with '/'"},
      {"%Y//%m/%d/%H/%M", minutes(5), "empty path segment"},
      {"%Y/../%m/%d/%H/%M", minutes(5), "\"..\" segment"},
      {"./%Y/%m/%d/%H/%M", minutes(5), "\".\" segment"},
  };
  for (const auto& c : cases) {
    auto l = PartitionLayout::Create(c.pattern, c.interval);
    ASSERT_FALSE(l.ok()) << c.pattern << " " << c.interval.count();
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(l.status().message(), HasSubstr(c.message_part)) << c.pattern;
  }
}

}  // namespace
}  // namespace freshet
