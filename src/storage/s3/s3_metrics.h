// Exports an S3Store's counters (S3Store::stats()) as metrics, read at
// scrape time by a registry collector:
//   freshet_s3_requests_total{store, operation, code}   every attempt, by HTTP status ("none": no response)
//   freshet_s3_operations_total{store, operation}       logical calls
//   freshet_s3_retries_total{store, operation}
//   freshet_s3_errors_total{store, operation}           calls that ended in an error
//   freshet_s3_confirmed_total{store, operation}        lost responses a HEAD showed applied
//   freshet_s3_retry_budget_exhausted_total{store}
//   freshet_s3_bytes_total{store, direction="uploaded"|"downloaded"}   successful attempts' objects
// and from the HTTP client (HttpClient::Stats):
//   freshet_s3_connections_opened_total{store}
//   freshet_s3_connections_reused_total{store}
//   freshet_s3_stale_reconnects_total{store}
//   freshet_s3_http_timeouts_total{store}
//   freshet_s3_http_failures_total{store}               attempts without a complete response
//   freshet_s3_http_bytes_total{store, direction="sent"|"received"}   every attempt's bodies
// (HttpClient's requests/responses are the attempts above: not repeated.)
// Operation names are the S3 API's ("GetObject", "ListObjectsV2", ...);
// an operation's families appear once it has been called.
#pragma once

#include <string>

#include "metrics/metrics.h"

namespace freshet {

class S3Store;

// REQUIRES: `store` outlives `registry`'s last render.
void AddS3Collector(MetricsRegistry& registry, std::string role, const S3Store* store);

}  // namespace freshet
