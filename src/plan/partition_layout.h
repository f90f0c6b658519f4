// Maps partition times to folder names and back, for a layout pattern such
// as "%Y/%m/%d/%H/%M" or Hive-style "dt=%Y-%m-%d/hr=%H/min=%M".
//
// Pure, synchronous, no I/O. Every field is zero-padded, so folder names
// sort bytewise in time order: the Lister relies on that for start-after.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

class PartitionLayout {
 public:
  // Supported conversions: %Y %m %d %H %M %S and %% ; any other text is
  // literal. REQUIRES: interval > 0 and a whole number of seconds; the
  // pattern must resolve times at least as finely as `interval` (e.g. an
  // hourly pattern cannot hold 5m partitions). Errors name the problem.
  //
  // Also rejected (kInvalidArgument), because the Lister and the object
  // store depend on them: an interval that does not divide a day (slots must
  // line up with midnight); an interval that the finest field cannot name
  // (90s under %M); a field that repeats or appears before a coarser one
  // (%d/%m/%Y would not sort in time order); a pattern without the full date
  // (%Y, %m, %d) or with a gap (%M without %H); a leading '/', an empty,
  // "." or ".." segment. One trailing '/' is accepted and dropped.
  static Result<PartitionLayout> Create(std::string_view pattern, Duration interval);

  // The folder for the partition starting at `t`, with a trailing '/':
  // "2026/11/22/14/05/". REQUIRES: t is aligned to the interval and falls in
  // years 0000..9999 (four-digit years keep folder names sortable).
  std::string Format(TimePoint t) const;

  // Parses the partition folder at the start of `relative_key` (a key with
  // the updates prefix already removed). Returns the partition time, or
  // nullopt when the key does not start with a well-formed folder of this
  // layout or the time is not aligned to the interval. *rest receives what
  // follows the folder's '/' (the object's name) when non-null.
  //
  // Strict and total: every field has exactly its digit count (4 for %Y, 2
  // otherwise), literals match byte for byte, the date must exist (no
  // 2026-02-29), hours < 24, minutes and seconds < 60, and the folder must
  // end with '/'. Any input, including arbitrary bytes, returns nullopt
  // rather than failing. So Format(t) parses back to t for every aligned t
  // in years 0000..9999, and nothing else parses.
  std::optional<TimePoint> ParseKey(std::string_view relative_key, std::string_view* rest = nullptr) const;

  // Partition start for any instant: floor(t / interval) * interval.
  TimePoint Floor(TimePoint t) const;

  Duration interval() const { return interval_; }
  const std::string& pattern() const { return pattern_; }

 private:
  // One piece of a compiled pattern: either literal text or one field.
  enum class Field : uint8_t { kLiteral, kYear, kMonth, kDay, kHour, kMinute, kSecond };
  struct Token {
    Field field = Field::kLiteral;
    std::string literal;  // only for kLiteral; "%%" already unescaped
  };

  PartitionLayout(std::string pattern, Duration interval) : pattern_(std::move(pattern)), interval_(interval) {}
  std::string pattern_;
  Duration interval_;
  std::vector<Token> tokens_;  // set by Create; adjacent literals merged
};

}  // namespace freshet
