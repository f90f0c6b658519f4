// Named crash points for the crash-restart tests.
//
// FRESHET_CRASH_AT=<point>[@<n>] makes the process SIGKILL itself the n-th
// time (default 1st) execution reaches `point`, exactly as an OOM kill or a
// power cut would: no destructors, no flush. Points are listed in
// kCrashPoints; an unknown name in the variable is reported at start-up.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "freshet/status.h"

namespace freshet {

inline constexpr std::string_view kCrashPoints[] = {
    "before-segments",    // plan built, nothing written
    "mid-segments",       // after the first segment file of the batch
    "before-manifest",    // all segment files written
    "before-current",     // manifests written, CURRENT not yet
    "after-current",      // batch committed (CURRENT holds the watermark), retention not yet run
    "mid-retention",      // after the first retention delete
};

// Reads FRESHET_CRASH_AT once. kInvalidArgument for an unknown point.
Status InitCrashPointsFromEnv();

// Kills the process if `point` is armed and this is its n-th hit.
void CrashPoint(std::string_view point);

}  // namespace freshet
