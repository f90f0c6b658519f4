// errno from a filesystem or socket call as a Status with its retry
// meaning (include/freshet/status.h): missing → kNotFound, refused →
// kPermissionDenied, exists → kAlreadyExists, a bad name or type →
// kInvalidArgument, everything else (EIO, ENOSPC, EMFILE, ...) →
// kUnavailable, possibly transient.
#pragma once

#include <string>

#include "freshet/status.h"

namespace freshet {

// strerror_r's text for `err` (thread-safe).
std::string ErrnoText(int err);

// "<what>: <strerror>" with the code above.
Status PosixError(std::string what, int err);

}  // namespace freshet
