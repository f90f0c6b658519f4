// Time as freshet sees it: UTC instants with millisecond resolution.
// Partition times, watermarks and trigger deadlines are all TimePoints.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "freshet/status.h"

namespace freshet {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }

// "2026-11-22T14:05:00Z" (milliseconds appended only when non-zero:
// "2026-11-22T14:05:00.250Z").
std::string FormatRfc3339(TimePoint t);

// Parses RFC 3339 date-times: "2026-11-22T14:05:00Z",
// "2026-11-22T14:05:00.123456+01:00", lowercase 't'/'z' too. Fractions
// beyond microseconds are truncated. Returns the instant in microseconds
// since the Unix epoch (for record versions) via *micros when non-null.
Result<TimePoint> ParseRfc3339(std::string_view s, int64_t* micros = nullptr);

// Parses "250ms", "30s", "5m", "24h", "1h30m", "2d". Rejects empty, negative
// and unit-less values with a message naming the problem.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);
// The shortest form ParseDuration reads back: "1h30m", "250ms", "0s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace freshet
