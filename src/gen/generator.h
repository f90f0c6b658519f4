// `freshet gen`: seeded synthetic ads data for the demo, tests and
// benchmarks (SPEC §2 input, §7 CLI).
//
// Writes NDJSON objects into an ObjectStore:
//   <snapshots_prefix><folder>part-NNNNN.ndjson[.lz4]  every live entity at
//                                                      the snapshot time
//   <updates_prefix><folder>part-NNNNN.ndjson[.lz4]    one partition's updates
//   ...<folder>_SUCCESS, empty part objects           noise freshet ignores
// where <folder> is PartitionLayout::Format(partition time).
//
// Records (fields in this order; all levels mixed in the same objects):
//   {"type":"campaign","id":"c00000042","version":V,"status":"ACTIVE",
//    "deleted":false,"campaign_name":S,"advertiser":S,"country":"US"}
//   {"type":"ad_group","id":"g00000421","campaign_id":"c00000042","version":V,
//    "status":S,"deleted":false,"ad_group_name":S,"bid_micros":1200000}
//   {"type":"ad","id":"a00004211","ad_group_id":"g00000421","version":V,
//    "status":S,"deleted":false,"title":S,"description":S,"url":S,
//    "keywords":[S,...]}
//   flat: {"id":"a00000001","version":V,"deleted":false,"title":S,
//    "description":S,"url":S,"country":S,"campaign_id":S,"keywords":[...]}
// Ids are a level letter and 8 digits, numbered from 1 per level. Versions
// are the update time in Unix milliseconds, strictly increasing per entity
// across everything written from one GenState. status is ACTIVE or PAUSED.
// Deletes are full records with "deleted":true and cascade: deleting a
// campaign or ad group also writes tombstones for all its live descendants,
// so no live entity ever has a deleted parent. Deleted entities never come
// back.
//
// Determinism: the bytes written depend only on the options and the
// sequence of calls (and the lz4 library version, for .lz4 objects): the
// same options give byte-identical objects under the same keys.
//
// Ground truth: the well-formed records written are the whole truth; a
// brute-force scan re-reads the objects. Malformed lines (see
// malformed_lines.h) use ids with the reserved 'x' prefix or are not
// parseable JSON at all. Duplicates are exact byte copies of an earlier
// record line (same id, same version).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"
#include "freshet/time.h"
#include "storage/object_store.h"

namespace freshet {

struct GenOptions {
  uint64_t seed = 1;
  // Single-level plain ad documents instead of campaign -> ad group -> ad.
  bool flat = false;

  // Population at the start time. Hierarchy: campaigns x
  // ad_groups_per_campaign ad groups, each with ads_per_ad_group ads.
  // Flat: campaigns x ads_per_ad_group documents, whose campaign_id values
  // are drawn from `campaigns` ids.
  uint32_t campaigns = 50;
  uint32_t ad_groups_per_campaign = 4;
  uint32_t ads_per_ad_group = 10;
  // > 0: exactly this many ads at the start instead (hierarchy: spread
  // evenly over the ad groups; flat: the corpus size). 0 = derive.
  uint64_t total_ads = 0;

  // Time and layout. The start is floored to the interval; it is the
  // snapshot time and the first partition's time. Initial entity versions
  // lie in the 30 days before it.
  TimePoint start = FromUnixMillis(1764000000000);  // 2025-11-24T16:00:00Z
  uint32_t partitions = 12;                         // update partitions Generate writes
  Duration span = Duration(0);  // > 0: partitions = ceil(span / interval) instead
  std::string layout = "%Y/%m/%d/%H/%M";
  Duration interval = std::chrono::minutes(5);
  // Each "" or ending with '/'; neither may start with the other.
  std::string updates_prefix = "updates/";
  std::string snapshots_prefix = "snapshots/";

  // Volume and object shapes.
  uint32_t updates_per_partition = 500;  // update events; a cascade or a new
                                         // campaign writes several records
  uint32_t objects_per_partition = 3;    // part objects per partition (>= 1)
  uint32_t snapshot_lines_per_object = 50000;
  bool snapshot = true;  // Generate writes a snapshot at the start time
  // Flat: the snapshot's ads in a seeded random order rather than by id
  // (as an export that is not sorted by key writes them). The hierarchy's
  // snapshot is depth first, never in key order, either way.
  bool shuffle_snapshot = false;

  // Noise, all fractions in [0, 1].
  double lz4_share = 0.25;              // objects written as LZ4 frames (.ndjson.lz4)
  double bad_line_share = 0.002;        // malformed lines among all lines (< 1)
  double duplicate_share = 0.05;        // update events that re-send an earlier record
  double empty_object_share = 0.2;      // partitions with an extra empty part object
  double success_marker_share = 0.5;    // partitions/snapshots with a _SUCCESS marker
  double escaped_unicode_share = 0.02;  // records with non-ASCII written as \uXXXX

  // Text: a Zipf-like vocabulary (see gen/vocabulary.h).
  uint32_t vocabulary_size = 10000;
  double zipf_exponent = 1.0;
};

// Checks ranges and the layout; errors name the field and the problem.
Status ValidateGenOptions(const GenOptions& options);

// Ads in the starting population (hierarchy or flat).
uint64_t InitialAdCount(const GenOptions& options);

// What a call wrote. Counters accumulate across calls given the same
// summary.
struct GenSummary {
  uint64_t objects = 0;      // including empty objects and markers
  uint64_t bytes = 0;        // stored bytes (compressed for .lz4)
  uint64_t records = 0;      // well-formed record lines, duplicates included
  uint64_t duplicates = 0;   // of those, exact re-sends of an earlier line
  uint64_t bad_lines = 0;    // malformed lines
  uint64_t partitions = 0;   // update partitions written
  uint64_t snapshots = 0;
  std::vector<std::string> keys;  // every key written, in write order
};

// The generator's entities between calls: what exists, each one's latest
// version, status and content revision. Follow mode keeps one GenState
// alive and calls GeneratePartition once per interval, so the stream stays
// consistent (versions increase, deleted entities stay deleted).
// Not thread-safe: one caller at a time.
class GenState {
 public:
  // The starting population at options.start (floored to the interval).
  // Reads the population, time and text options; later calls read the
  // rest from the options they are given.
  static Result<GenState> Create(const GenOptions& options);

  GenState(GenState&&) noexcept;
  GenState& operator=(GenState&&) noexcept;
  ~GenState();

  // The newest partition written through this state; nullopt before the
  // first. The next partition must be later.
  std::optional<TimePoint> last_partition() const;
  // The earliest time a snapshot may describe: after every version written.
  TimePoint min_snapshot_time() const;

  // Live (not deleted) entities per level; flat mode has only ads.
  uint64_t live_campaigns() const;
  uint64_t live_ad_groups() const;
  uint64_t live_ads() const;

  struct Impl;

 private:
  explicit GenState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;

  friend struct GenStateAccess;
};

// Writes every live entity, once each, as a snapshot at `snapshot_time`
// under options.snapshots_prefix. Blocks until every object is stored.
// REQUIRES: snapshot_time aligned to the interval and >=
// state.min_snapshot_time(); options.layout/interval/seed as at Create.
Status WriteSnapshot(const GenOptions& options, GenState& state, TimePoint snapshot_time, ObjectStore& store,
                     GenSummary* summary = nullptr);

// Writes one update partition at `partition_time` under
// options.updates_prefix: updates_per_partition events (text edits, status
// changes at every level, deletes, new entities, duplicates) with versions
// inside [partition_time, partition_time + interval), plus the configured
// noise. Blocks until every object is stored. On error the state may have
// advanced past a partially written partition; start over.
// REQUIRES: partition_time aligned to the interval and later than
// state.last_partition(); options.layout/interval/seed as at Create.
Status GeneratePartition(const GenOptions& options, GenState& state, TimePoint partition_time,
                         ObjectStore& store, GenSummary* summary = nullptr);

// Advance `state` exactly as WriteSnapshot / GeneratePartition would, and
// check the same REQUIRES, without writing anything. A follow-mode run that
// restarts replays what an earlier run wrote (same options, same sequence
// of calls) and then continues, so the stream stays consistent across
// restarts.
Status ReplaySnapshot(const GenOptions& options, GenState& state, TimePoint snapshot_time);
Status ReplayPartition(const GenOptions& options, GenState& state, TimePoint partition_time);

// The whole data set: GenState::Create, a snapshot at the start when
// options.snapshot, then the update partitions from the start on, one per
// interval. The CLI backfilling up to now sets options.start to
// now floored minus partitions * interval. Follow mode does the same steps
// itself to keep the state: Create, WriteSnapshot(start), then
// GeneratePartition(start + i * interval) for ever; byte-identical to
// Generate for the partitions both write.
Status Generate(const GenOptions& options, ObjectStore& store, GenSummary* summary = nullptr);

}  // namespace freshet
