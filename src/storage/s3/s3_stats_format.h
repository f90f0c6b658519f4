// One log line summarising an S3Store's request counters, for the daemon's
// exit log and the CLI tools (the metrics endpoint exports the same
// counters as series).
#pragma once

#include <string>

#include "storage/s3/s3_store.h"

namespace freshet {

// "412 requests (3 retries, 0 errors, budget exhausted 0): GetObject 300/2r,
// ListObjectsV2 12, PutObject 100/1r/1e ..." — attempts per operation, with
// retries (r) and failed calls (e) where non-zero; then bytes up/down.
std::string FormatS3Stats(const S3Stats& stats);

}  // namespace freshet
