// Maps partition times to folder names and back, for a layout pattern such
// as "%Y/%m/%d/%H/%M" or Hive-style "dt=%Y-%m-%d/hr=%H/min=%M".
//
// Pure, synchronous, no I/O. Every field is zero-padded, so folder names
// sort bytewise in time order: the Lister relies on that for start-after.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "freshet/options.h"
#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

class PartitionLayout {
 public:
  // Supported conversions: %Y %m %d %H %M %S and %% ; any other text is
  // literal. REQUIRES: interval > 0 and a whole number of seconds; the
  // pattern must resolve times at least as finely as `interval` (e.g. an
  // hourly pattern cannot hold 5m partitions). Errors name the problem.
  static Result<PartitionLayout> Create(std::string_view pattern, Duration interval);

  // The folder for the partition starting at `t`, with a trailing '/':
  // "2026/11/22/14/05/". REQUIRES: t is aligned to the interval.
  std::string Format(TimePoint t) const;

  // Parses the partition folder at the start of `relative_key` (a key with
  // the updates prefix already removed). Returns the partition time, or
  // nullopt when the key does not start with a well-formed folder of this
  // layout or the time is not aligned to the interval. *rest receives what
  // follows the folder's '/' (the object's name) when non-null.
  std::optional<TimePoint> ParseKey(std::string_view relative_key, std::string_view* rest = nullptr) const;

  // Partition start for any instant: floor(t / interval) * interval.
  TimePoint Floor(TimePoint t) const;

  Duration interval() const { return interval_; }
  const std::string& pattern() const { return pattern_; }

 private:
  PartitionLayout(std::string pattern, Duration interval) : pattern_(std::move(pattern)), interval_(interval) {}
  std::string pattern_;
  Duration interval_;
};

}  // namespace freshet
