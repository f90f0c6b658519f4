// Checks the values of a loaded Options and the relations between them,
// so that a bad config fails at start with a message naming the key, not
// hours later in the middle of a batch.
#pragma once

#include <chrono>
#include <string_view>

#include "config/options.h"
#include "freshet/status.h"

namespace freshet {

// OK, or kInvalidArgument listing every problem found, each as
// "<dotted.key>: <problem>", separated by "; ". Pure; any thread.
Status ValidateOptions(const Options& options);

// The partition-layout rule on its own (also used by ValidateOptions for
// source.layout): only %Y %m %d %H %M %S and %% conversions, each at most
// once, coarse to fine with none skipped from %Y down to the finest, so
// folder names sort in time order; the finest conversion must divide
// `interval` (no 5m partitions in an hourly layout); `interval` must be a
// positive whole number of seconds that divides a day. Messages do not name
// the key.
Status CheckPartitionLayout(std::string_view layout, Duration interval);

}  // namespace freshet
