// A human-readable listing of the effective configuration, for
// `freshet check-config FILE` and the daemon's start-up log.
#pragma once

#include <string>
#include <string_view>

#include "config/options.h"

namespace freshet {

// One "section.key = value" line per option, defaults included, in the
// order of options.h; durations as FormatDuration writes them ("1h30m"),
// strings JSON-quoted, lists as ["a", "b"], levels as schema.levels[i].key,
// then "schema.hash = <SchemaHash>". Values of keys that look secret are
// masked, and so is user:password@ in URIs. Pure; any thread.
std::string DescribeOptions(const Options& options);

// True when a dotted key names something secret: it contains "secret",
// "token" or "password" (any case).
bool LooksLikeSecretKey(std::string_view dotted_key);

// `uri` with any "user:password@" part replaced by "***@".
std::string MaskUriUserInfo(std::string_view uri);

}  // namespace freshet
