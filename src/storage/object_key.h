// The key rules every freshet ObjectStore backend enforces, so that a key
// accepted by one backend is accepted by all (and can always be a path
// under a LocalStore root).
#pragma once

#include <string_view>

#include "base/utf8.h"
#include "freshet/status.h"

namespace freshet {

// S3's limit on key length, in bytes.
inline constexpr size_t kMaxObjectKeyBytes = 1024;

// Segments starting with this are reserved: LocalStore names its in-flight
// temp files this way and never lists them.
inline constexpr std::string_view kReservedSegmentPrefix = ".freshet-tmp-";

// OK if `key` is a valid object key: 1..1024 bytes of valid UTF-8, no NUL,
// '/'-separated segments that are each non-empty (so no leading or
// trailing '/' and no "//"), none equal to "." or "..", none starting with
// kReservedSegmentPrefix. Backslashes and other bytes are ordinary
// characters. Otherwise kInvalidArgument naming the key and the problem.
Status ValidateObjectKey(std::string_view key);


}  // namespace freshet
