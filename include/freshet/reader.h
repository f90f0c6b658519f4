// The reader library: opens a freshet sink, follows its commit point
// (CURRENT) and answers term queries over the live full + delta generations
// with delta overlay semantics (SPEC §3).
//
//   auto reader = freshet::Reader::Open("local:///srv/freshet/sink");
//   if (!reader.ok()) ...;
//   auto query = freshet::ParseQuery({"running", "shoes", "country:DE"}, /*any=*/false);
//   auto ids = (*reader)->Search(*query);            // ascending by id bytes
//   auto doc = (*reader)->Get("ad-000123");          // stored JSON or nullopt
//
// Query semantics (exact; `freshet query` and the tests rely on them):
// - A bare word is tokenized with the indexer's tokenizer (NFKC + case
//   folding, runs of letters and digits). Each of its tokens must occur in
//   SOME text field of the document (a word of several tokens, "red-shoes",
//   needs all of them, each in any text field).
// - `field:value` on a keyword field matches the exact raw value (bytes as
//   given; numbers as their canonical JSON text, e.g. "bid:1500").
// - `field:value` on a text field matches when every token of
//   Tokenize(value) occurs in that field.
// - Clauses are AND-ed; with Query::any they are OR-ed.
// - Merged view: the live full plus the chain of delta segments since it
//   (CURRENT's "chain", oldest first), overlaid newest first: a doc whose
//   id appears in a newer segment at all (updated or tombstone) is
//   shadowed in every older segment and in the full; tombstones match
//   nothing. The result is the union of each layer's unshadowed live
//   matches, sorted ascending by id bytes, without duplicates.
// - A missing full or delta (CURRENT names "") is an empty segment.
//
// Which fields are text and which keyword comes from the generations'
// manifests (text_fields / keyword_fields); for manifests that do not
// record them, from ReaderOptions, and failing that from the embedded ads
// schema.
//
// Files are read through ranged GETs (only the blocks a lookup needs, via a
// bounded cache of decoded blocks), never loaded whole.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/s3_options.h"
#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

// One query term. field "" = a bare word (any text field).
struct QueryClause {
  std::string field;
  std::string value;
  friend bool operator==(const QueryClause&, const QueryClause&) = default;
};

// Clauses are AND-ed, or OR-ed when `any`.
struct Query {
  std::vector<QueryClause> clauses;
  bool any = false;
  friend bool operator==(const Query&, const Query&) = default;
};

// Parses command-line style clauses: "word" or "field:value" (split at the
// first ':'; the value may contain more ':'). kInvalidArgument naming the
// clause for: no clauses, an empty clause, an empty field (":x") or value
// ("x:"), invalid UTF-8, or a bare word without any letter or digit (it
// could never match). Whether a field exists is checked by Search.
Result<Query> ParseQuery(const std::vector<std::string>& args, bool any);

// What CURRENT named when the reader last (re)loaded it.
struct Generations {
  std::string full;                    // live full generation id; "" = none
  std::string delta;                   // live delta generation id; "" = none
  std::vector<std::string> chain;      // delta segments since the full, oldest first; last = delta
  std::optional<TimePoint> watermark;  // newest partition the delta covers
  friend bool operator==(const Generations&, const Generations&) = default;
};

struct ReaderOptions {
  // Field kinds used when a manifest does not record them (older
  // generations). nullopt = the embedded ads schema's lists.
  std::optional<std::vector<std::string>> text_fields;
  std::optional<std::vector<std::string>> keyword_fields;
  // When false, a sink without CURRENT (nothing published yet) opens as an
  // empty view that Refresh / WaitForWatermark pick up later; when true,
  // Open fails with kNotFound. Default: true.
  bool require_current = true;
  // Decoded blocks cached per open generation. Default: 8 MiB.
  size_t block_cache_bytes = 8 * 1024 * 1024;
  // How an s3:// sink is reached (region, endpoint, credentials, ...);
  // empty fields defer to the AWS environment, as in the daemon.
  S3Options s3;
};

// Errors: kNotFound (no CURRENT, a named generation or file missing),
// kDataLoss (corrupt CURRENT, manifest or segment bytes; a file whose size
// differs from its manifest; a delta segment whose base is not the live
// full),
// kInvalidArgument (bad query: unknown field, no tokens), and the store's
// own codes (kUnavailable, kPermissionDenied, ...).
//
// Thread-safety: every method may be called concurrently from any thread.
// Search and Get work on an immutable snapshot of the generations; Refresh
// swaps the snapshot atomically (calls in flight finish on the old one).
// The blocking store helpers are used underneath, so do not call these from
// a thread the store needs to complete requests (e.g. an event loop that
// delivers the store's callbacks).
class Reader {
 public:
  // Opens the store at `sink_uri` (see storage/store_uri.h: "local:///abs",
  // a path, "mem://name", "s3://bucket/prefix"), reads CURRENT and opens the live full and delta
  // (their manifests, and each segment file's header, footer and sparse
  // index).
  static Result<std::unique_ptr<Reader>> Open(const std::string& sink_uri, ReaderOptions options = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Re-reads CURRENT; if it names other generations (or another
  // watermark), opens them (reusing whichever stays live) and switches to
  // them atomically. On error the current view is kept.
  Status Refresh();

  // The generations of the current view. By value: a concurrent Refresh
  // may replace the view at any moment.
  Generations generations() const;

  // The ids of the merged view matching `query`, ascending by id bytes.
  // kInvalidArgument for an empty query, a field that is neither text nor
  // keyword, or a text value without tokens.
  Result<std::vector<std::string>> Search(const Query& query) const;

  // The stored JSON of `id` in the merged view (the newest segment's
  // version when a segment has it), or nullopt when absent or deleted.
  Result<std::optional<std::string>> Get(std::string_view id) const;

  // Returns OK as soon as the view's watermark is >= t (refreshing every
  // `poll`); kDeadlineExceeded once `timeout` passes without that. Errors
  // of Refresh that a later poll may cure (kNotFound, kUnavailable,
  // kDeadlineExceeded) are retried; others are returned.
  Status WaitForWatermark(TimePoint t, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds poll = std::chrono::milliseconds(500));

 private:
  struct Impl;
  friend struct ReaderInternals;  // src/reader/reader_internals.h (tests, tools)
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet
