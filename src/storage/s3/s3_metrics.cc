// The S3 store's counters as metrics, read from S3Store::stats() at every
// render (the store keeps them; nothing is copied in between).
#include "storage/s3/s3_metrics.h"

#include <utility>

#include "storage/s3/s3_store.h"

namespace freshet {
namespace {

double D(uint64_t v) { return static_cast<double>(v); }

void WriteS3Stats(MetricsWriter& w, const std::string& role, const S3Stats& stats) {
  for (const auto& [op, s] : stats.operations) {
    const MetricLabels labels = {{"store", role}, {"operation", op}};
    w.Counter("freshet_s3_operations_total", "S3 calls (logical requests, whatever their retries).", labels,
              D(s.calls));
    w.Counter("freshet_s3_retries_total", "S3 attempts that repeated a failed one.", labels, D(s.retries));
    w.Counter("freshet_s3_errors_total", "S3 calls that ended in an error, after their retries.", labels,
              D(s.errors));
    w.Counter("freshet_s3_confirmed_total",
              "S3 calls whose response was lost and that a HEAD showed had been applied.", labels, D(s.confirmed));
    for (const auto& [status, count] : s.by_status) {
      w.Counter("freshet_s3_requests_total",
                "S3 HTTP attempts by response status (\"none\": no response: reset, timeout, refused).",
                {{"store", role}, {"operation", op}, {"code", status == 0 ? "none" : std::to_string(status)}},
                D(count));
    }
  }
  const MetricLabels store = {{"store", role}};
  w.Counter("freshet_s3_retry_budget_exhausted_total",
            "Retryable S3 failures returned at once because the store's retry budget was empty.", store,
            D(stats.retry_budget_exhausted));
  w.Counter("freshet_s3_unverified_etags_total",
            "S3 responses whose ETag is not the body's MD5 (SSE-KMS or SSE-C objects), so the bytes were not "
            "checked against it.",
            store, D(stats.unverified_etags));
  w.Counter("freshet_s3_bytes_total", "Object bytes moved by successful S3 attempts.",
            {{"store", role}, {"direction", "uploaded"}}, D(stats.bytes_uploaded));
  w.Counter("freshet_s3_bytes_total", "Object bytes moved by successful S3 attempts.",
            {{"store", role}, {"direction", "downloaded"}}, D(stats.bytes_downloaded));
  const HttpClient::Stats& http = stats.http;
  w.Counter("freshet_s3_connections_opened_total", "TCP (and TLS) connections the S3 client established.", store,
            D(http.connections_opened));
  w.Counter("freshet_s3_connections_reused_total", "S3 requests sent on a pooled keep-alive connection.", store,
            D(http.connections_reused));
  w.Counter("freshet_s3_stale_reconnects_total",
            "Pooled S3 connections found closed by the server, and the request resent on a new one.", store,
            D(http.stale_reconnects));
  w.Counter("freshet_s3_http_timeouts_total", "S3 connect or request deadlines that expired.", store,
            D(http.timeouts));
  w.Counter("freshet_s3_http_failures_total",
            "S3 HTTP attempts that got no complete response (reset, refused, timeout, truncated).", store,
            D(http.failures));
  w.Counter("freshet_s3_http_bytes_total", "HTTP body bytes of every S3 attempt, retries and failures included.",
            {{"store", role}, {"direction", "sent"}}, D(http.bytes_sent));
  w.Counter("freshet_s3_http_bytes_total", "HTTP body bytes of every S3 attempt, retries and failures included.",
            {{"store", role}, {"direction", "received"}}, D(http.bytes_received));
}

}  // namespace

void AddS3Collector(MetricsRegistry& registry, std::string role, const S3Store* store) {
  registry.AddCollector(
      [role = std::move(role), store](MetricsWriter& w) { WriteS3Stats(w, role, store->stats()); });
}

}  // namespace freshet
