// An ObjectStore decorator that counts every call by operation and outcome
// and times it, into a MetricsRegistry:
//   freshet_object_store_requests_total{store, operation, status}
//   freshet_object_store_request_duration_seconds{store, operation}  (histogram)
//   freshet_object_store_bytes_total{store, direction="read"|"written"}
// `store` is the role ("source", "sink"), `operation` StoreOpName(),
// `status` "ok" or the StatusCode's snake_case name ("not_found",
// "unavailable", ...). One logical call counts once, whatever retries the
// inner store made (the S3 store's own attempts and retries are
// freshet_s3_*: see s3/s3_metrics.h). Describe() is the inner store's.
// Thread-safe; adds no locking to the call path (atomic counters).
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
