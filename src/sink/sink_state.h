// What a sink holds durably, read in one place: the daemon's start-up,
// `freshet verify`, `inspect` and the reader library all recover the
// commit point through RecoverState.
//
// CURRENT is the one durable state. It names the live generations and
// embeds the planner checkpoint (the watermark), and it is written last
// and atomically, so whatever CURRENT says is complete and committed.
// freshet up to 0.1 also wrote `_freshet/checkpoint.json` after CURRENT;
// that copy could only ever lag CURRENT (the "checkpoint lags after an
// idle restart" gap), so it is no longer written. A sink that still has
// one opens as before: CURRENT wins, the old file is reported and the
// daemon removes it.
#pragma once

#include <optional>

#include "freshet/status.h"
#include "sink/sink_layout.h"
#include "storage/object_store.h"

namespace freshet {

struct SinkState {
  std::optional<CurrentPointer> current;  // nullopt: nothing committed yet
  // The ETag of the CURRENT read: a writer replaces only that version.
  std::optional<std::string> current_etag;
  Checkpoint checkpoint;                  // current's, or a fresh one
  bool legacy_checkpoint_file = false;    // `_freshet/checkpoint.json` is present
};

// CURRENT alone: nullopt when the sink has none (nothing committed yet).
// Blocking, with RecoverState's errors. The reader calls this on every
// refresh; RecoverState adds what only a writer needs.
Result<std::optional<CurrentPointer>> ReadCurrentPointer(ObjectStore& sink);

// Blocking (GetSync): REQUIRES a thread the store does not need to complete
// its calls (see storage/blocking_store.h). Errors name the sink and key:
// kDataLoss for a damaged CURRENT, kFailedPrecondition for one written by
// another format, the store's status when it cannot be read.
Result<SinkState> RecoverState(ObjectStore& sink);

}  // namespace freshet
