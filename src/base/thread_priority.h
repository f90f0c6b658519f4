// Lowers the CPU priority of the calling thread (Linux: threads have their
// own nice value). For background work that must not compete with the
// batches for the cores: the merges of the delta chain.
#pragma once

#include "freshet/status.h"

namespace freshet {

// Sets the calling thread's nice value to `niceness` (0..19; higher is
// lower priority). Raising it needs no privilege; kPermissionDenied when a
// sandbox filters the call (conf/freshet.service allows it).
Status LowerThisThreadPriority(int niceness);

}  // namespace freshet
