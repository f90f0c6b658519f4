#include "freshet/time.h"

#include <cctype>
#include <cstdio>

namespace freshet {
namespace {

bool ReadDigits(std::string_view s, size_t& pos, int n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char a, char b = 0) {
  if (pos >= s.size()) return false;
  if (s[pos] != a && (b == 0 || s[pos] != b)) return false;
  ++pos;
  return true;
}

}  // namespace

std::string FormatRfc3339(TimePoint t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  int ms = static_cast<int>(hms.subseconds().count());
  if (ms == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), ms);
  }
  return buf;
}

Result<TimePoint> ParseRfc3339(std::string_view s, int64_t* micros) {
  using namespace std::chrono;
  size_t p = 0;
  int y, mo, d, h, mi, sec;
  auto bad = [&](const char* what) {
    return Status::InvalidArgument("not an RFC 3339 time (" + std::string(what) + "): \"" +
                                   std::string(s.substr(0, 64)) + "\"");
  };
  if (!ReadDigits(s, p, 4, &y) || !Expect(s, p, '-') || !ReadDigits(s, p, 2, &mo) ||
      !Expect(s, p, '-') || !ReadDigits(s, p, 2, &d))
    return bad("date");
  if (!Expect(s, p, 'T', 't') && !Expect(s, p, ' ')) return bad("missing 'T'");
  if (!ReadDigits(s, p, 2, &h) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, &mi) ||
      !Expect(s, p, ':') || !ReadDigits(s, p, 2, &sec))
    return bad("time");
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad("field out of range");
  int64_t frac_us = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int digits = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (digits < 6) frac_us = frac_us * 10 + (s[p] - '0');
      ++digits;
      ++p;
    }
    if (digits == 0) return bad("empty fraction");
    for (int i = digits; i < 6; ++i) frac_us *= 10;
  }
  int64_t offset_s = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!ReadDigits(s, p, 2, &oh) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, &om) || oh > 23 || om > 59)
      return bad("offset");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return bad("missing time zone");
  }
  if (p != s.size()) return bad("trailing characters");
  int64_t secs = sys_days(ymd).time_since_epoch().count() * 86400LL + h * 3600LL + mi * 60LL + sec - offset_s;
  if (micros) *micros = secs * 1000000LL + frac_us;
  return FromUnixMillis(secs * 1000LL + frac_us / 1000);
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  if (s.empty()) return Status::InvalidArgument("empty duration; expected e.g. \"30s\", \"5m\", \"24h\"");
  int64_t total = 0;
  size_t p = 0;
  while (p < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[p])))
      return Status::InvalidArgument("bad duration \"" + std::string(s) + "\": expected a number at offset " +
                                     std::to_string(p) + " (e.g. \"30s\", \"5m\", \"1h30m\")");
    int64_t n = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      n = n * 10 + (s[p] - '0');
      if (n > 1'000'000'000'000LL) return Status::InvalidArgument("duration \"" + std::string(s) + "\" is too large");
      ++p;
    }
    size_t u = p;
    while (p < s.size() && std::isalpha(static_cast<unsigned char>(s[p]))) ++p;
    std::string_view unit = s.substr(u, p - u);
    if (unit.empty())
      return Status::InvalidArgument("bad duration \"" + std::string(s) + "\": expected a unit (ms, s, m, h, d) right after " +
                                     std::to_string(n) + ", e.g. \"" + std::to_string(n) + "m\"");
    int64_t mult;
    if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else
      return Status::InvalidArgument("bad duration \"" + std::string(s) + "\": unit \"" + std::string(unit) +
                                     "\" is not one of ms, s, m, h, d");
    if (n > (int64_t{1} << 62) / mult || total > (int64_t{1} << 62) - n * mult)
      return Status::InvalidArgument("duration \"" + std::string(s) + "\" is too large");
    total += n * mult;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) { out = "-"; ms = -ms; }
  struct { int64_t mult; const char* unit; } units[] = {{3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto& u : units) {
    if (ms >= u.mult) {
      out += std::to_string(ms / u.mult) + u.unit;
      ms %= u.mult;
    }
  }
  return out;
}

}  // namespace freshet
