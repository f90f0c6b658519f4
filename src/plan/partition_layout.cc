#include "plan/partition_layout.h"
#include "base/floor_div.h"

#include <chrono>
#include <cstdio>

namespace freshet {
namespace {

constexpr int64_t kDayMs = 86'400'000;

struct FieldInfo {
  char conversion;  // the letter after '%'
  int digits;       // exact width in folder names
  int64_t unit_ms;  // the span one step of this field names
  const char* name; // for messages
};

// Indexed by Field - 1 (kLiteral has no entry); coarsest first.
constexpr FieldInfo kFields[] = {
    {'Y', 4, 0, "%Y"},  // years have no fixed length; never the finest field (needs %m %d)
    {'m', 2, 0, "%m"},
    {'d', 2, kDayMs, "%d"},
    {'H', 2, 3'600'000, "%H"},
    {'M', 2, 60'000, "%M"},
    {'S', 2, 1'000, "%S"},
};

const FieldInfo& Info(int field) { return kFields[field - 1]; }

bool ReadFixedDigits(std::string_view s, size_t& pos, int n, int* out) {
  if (s.size() - pos < static_cast<size_t>(n)) return false;
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

}  // namespace

Result<PartitionLayout> PartitionLayout::Create(std::string_view pattern_in, Duration interval) {
  const std::string quoted = "layout pattern \"" + std::string(pattern_in) + "\"";
  const int64_t iv = interval.count();
  if (iv <= 0) return Status::InvalidArgument("partition interval must be positive, got " + std::to_string(iv) + "ms");
  if (iv % 1000 != 0)
    return Status::InvalidArgument("partition interval " + FormatDuration(interval) +
                                   " is not a whole number of seconds");
  if (kDayMs % iv != 0)
    return Status::InvalidArgument("partition interval " + FormatDuration(interval) +
                                   " does not divide a day (24h) evenly, so partitions would not line up with "
                                   "midnight");

  std::string_view pattern = pattern_in;
  if (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  if (pattern.empty()) return Status::InvalidArgument("layout pattern is empty");
  if (pattern.front() == '/')
    return Status::InvalidArgument(quoted + " starts with '/': it is relative to the updates prefix");

  // Compile into tokens, merging adjacent literal text.
  std::vector<Token> tokens;
  int seen_mask = 0;
  int last_field = 0;
  auto add_literal = [&tokens](char c) {
    if (tokens.empty() || tokens.back().field != Field::kLiteral) tokens.push_back(Token{});
    tokens.back().literal.push_back(c);
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%') {
      add_literal(c);
      continue;
    }
    if (i + 1 == pattern.size()) return Status::InvalidArgument(quoted + " ends with a lone '%' (write %% for '%')");
    char conv = pattern[++i];
    if (conv == '%') {
      add_literal('%');
      continue;
    }
    int field = 0;
    for (int f = 1; f <= 6; ++f) {
      if (Info(f).conversion == conv) field = f;
    }
    if (field == 0)
      return Status::InvalidArgument(quoted + " has unknown conversion %" + std::string(1, conv) + " at offset " +
                                     std::to_string(i - 1) + " (supported: %Y %m %d %H %M %S %%)");
    if (seen_mask & (1 << field)) return Status::InvalidArgument(quoted + " repeats " + Info(field).name);
    if (field < last_field)
      return Status::InvalidArgument(quoted + " has " + Info(field).name + " after " + Info(last_field).name +
                                     ": fields must go from coarsest (%Y) to finest (%S) so folder names sort "
                                     "in time order");
    seen_mask |= 1 << field;
    last_field = field;
    tokens.push_back(Token{static_cast<Field>(field), {}});
  }

  // The folder must name a whole date, then every finer field down to the
  // finest one without gaps: "%Y/%m/%d/%M" could not tell 14:05 from 15:05.
  for (int f = 1; f <= 3; ++f) {
    if (!(seen_mask & (1 << f)))
      return Status::InvalidArgument(quoted + " lacks " + Info(f).name +
                                     ": a partition folder must name its date (%Y, %m and %d)");
  }
  for (int f = 4; f <= last_field; ++f) {
    if (!(seen_mask & (1 << f)))
      return Status::InvalidArgument(quoted + " has " + Info(last_field).name + " without " + Info(f).name);
  }
  const FieldInfo& finest = Info(last_field);
  if (finest.unit_ms > iv)
    return Status::InvalidArgument(quoted + " can only name whole " +
                                   FormatDuration(Duration(finest.unit_ms)) + " slots (finest field " + finest.name +
                                   ") but the partition interval is " + FormatDuration(interval) +
                                   ": every partition needs its own folder");
  if (iv % finest.unit_ms != 0)
    return Status::InvalidArgument("partition interval " + FormatDuration(interval) + " is not a whole number of " +
                                   FormatDuration(Duration(finest.unit_ms)) + ", the finest step " + quoted +
                                   " can name (" + finest.name + ")");

  // Segment checks: object stores reject empty, "." and ".." segments.
  size_t start = 0;
  while (true) {
    size_t slash = pattern.find('/', start);
    std::string_view seg = pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return Status::InvalidArgument(quoted + " has an empty path segment (\"//\")");
    if (seg == "." || seg == "..") return Status::InvalidArgument(quoted + " has a \"" + std::string(seg) + "\" segment");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }

  PartitionLayout layout(std::string(pattern), interval);
  layout.tokens_ = std::move(tokens);
  return layout;
}

std::string PartitionLayout::Format(TimePoint t) const {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  std::string out;
  out.reserve(pattern_.size() + 8);
  char buf[16];
  for (const Token& tok : tokens_) {
    int v = 0;
    switch (tok.field) {
      case Field::kLiteral: out += tok.literal; continue;
      case Field::kYear:
        std::snprintf(buf, sizeof buf, "%04d", static_cast<int>(ymd.year()));
        out += buf;
        continue;
      case Field::kMonth: v = static_cast<int>(static_cast<unsigned>(ymd.month())); break;
      case Field::kDay: v = static_cast<int>(static_cast<unsigned>(ymd.day())); break;
      case Field::kHour: v = static_cast<int>(hms.hours().count()); break;
      case Field::kMinute: v = static_cast<int>(hms.minutes().count()); break;
      case Field::kSecond: v = static_cast<int>(hms.seconds().count()); break;
    }
    std::snprintf(buf, sizeof buf, "%02d", v);
    out += buf;
  }
  out.push_back('/');
  return out;
}

std::optional<TimePoint> PartitionLayout::ParseKey(std::string_view key, std::string_view* rest) const {
  using namespace std::chrono;
  size_t pos = 0;
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0;
  for (const Token& tok : tokens_) {
    if (tok.field == Field::kLiteral) {
      if (key.substr(pos, tok.literal.size()) != tok.literal) return std::nullopt;
      pos += tok.literal.size();
      continue;
    }
    int* out = nullptr;
    switch (tok.field) {
      case Field::kYear: out = &y; break;
      case Field::kMonth: out = &mo; break;
      case Field::kDay: out = &d; break;
      case Field::kHour: out = &h; break;
      case Field::kMinute: out = &mi; break;
      case Field::kSecond: out = &s; break;
      case Field::kLiteral: break;
    }
    if (!ReadFixedDigits(key, pos, Info(static_cast<int>(tok.field)).digits, out)) return std::nullopt;
  }
  if (pos >= key.size() || key[pos] != '/') return std::nullopt;
  ++pos;

  // Ranges are checked before building the date: month{13} is "not ok" but
  // day{99} with a valid month must be rejected too, and both are by ok().
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  int64_t ms = (static_cast<int64_t>(sys_days(ymd).time_since_epoch().count()) * 86'400LL + h * 3'600LL +
                mi * 60LL + s) * 1000LL;
  if (ms - FloorDiv(ms, interval_.count()) * interval_.count() != 0) return std::nullopt;
  if (rest) *rest = key.substr(pos);
  return FromUnixMillis(ms);
}

TimePoint PartitionLayout::Floor(TimePoint t) const {
  const int64_t iv = interval_.count();
  return FromUnixMillis(FloorDiv(ToUnixMillis(t), iv) * iv);
}

}  // namespace freshet
