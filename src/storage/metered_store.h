// An ObjectStore decorator that counts every call by operation and outcome
// and times it, into a MetricsRegistry:
//   freshet_object_store_requests_total{store, operation, status}
//   freshet_object_store_request_duration_seconds{store, operation}  (histogram)
//   freshet_object_store_bytes_total{store, direction="read"|"written"}
// `store` is the role ("source", "sink"), `operation` StoreOpName(),
// `status` "ok" or the StatusCode's snake_case name ("not_found",
// "unavailable", ...: StatusCodeName() is CamelCase, so a local mapping).
// The "ok" children exist from construction (0 until the first call), an
// error status's from its first occurrence. Durations run from the call to
// its completion, buckets ExponentialBuckets(0.001, 2, 16) (1 ms .. 33 s);
// every outcome is timed. Bytes: read = Get result bodies, written = the
// bodies of successful Puts. Counts are updated before the caller's
// callback runs. One logical call counts once, whatever retries the
// inner store made (the S3 store's own attempts and retries are
// freshet_s3_*: see s3/s3_metrics.h). Describe() is the inner store's.
// Thread-safe; adds no locking to the call path (atomic counters; only an
// error status's first occurrence takes the registry's lock, once).
#pragma once

#include <memory>
#include <string>

#include "metrics/metrics.h"
#include "storage/object_store.h"

namespace freshet {

// REQUIRES: `registry` outlives the store.
std::unique_ptr<ObjectStore> MakeMeteredStore(std::unique_ptr<ObjectStore> inner, std::string role,
                                              MetricsRegistry* registry);

}  // namespace freshet
