// The Planner's decision logic (SPEC §1, §4): given the checkpoint, what is
// visible in the source and the time now, decide whether to build, what to
// build and from exactly which objects.
//
// Pure and synchronous: no I/O, no clock reads (`now` is an argument), no
// Asio. The Planner actor is a thin shell that feeds it listings and
// forwards the BuildPlan. All structs are plain values (they travel as
// actor messages).
//
// The rules, in one place:
// - A partition is *eligible* when time + interval + grace <= now; a
//   snapshot when time + snapshot_grace <= now. Visible but not yet
//   eligible inputs are reported as pending, with the time they will be.
// - Full build: due when there is an eligible snapshot (no older than the
//   base; the base never moves backwards either) and
//     * there is no base yet, or
//     * the base snapshot is no longer listed (its objects are needed), or
//     * the salt differs from the one the live full was built with, or
//     * full_rebuild_every == 0 and the newest eligible snapshot is newer
//       than the base, or
//     * full_rebuild_every > 0 and the newest eligible snapshot is at
//       least full_rebuild_every newer than the base.
//   (So full_rebuild_every > 0 rations full builds when snapshots land
//   more often than fulls are worth building; deltas keep growing from the
//   old base meanwhile, and max_window warns if that goes on too long.)
//   A full batch builds the new full and a delta on it, committed together.
// - Target: `latest` takes the newest eligible partition after the
//   watermark and records the eligible ones it jumps over as `skipped`;
//   `sequential` takes the oldest eligible partition after the watermark.
//   The watermark never moves backwards: a target <= watermark is never
//   planned, except that a full batch with nothing new keeps target =
//   watermark (or none, when nothing was ever committed) so its delta
//   re-covers the window on the new base.
// - Window: every visible partition whose slot [time, time + interval)
//   reaches past base_snapshot - overlap, up to and including the target.
//   Records before the base snapshot are in the full; everything after it
//   is in the window, so base + delta is complete however many partitions
//   were skipped. (A slot-overlap test rather than `time > base - overlap`,
//   so overlap = 0 still includes the partition the snapshot falls in.)
//   Without any snapshot the window starts at the oldest visible partition.
//   A window wider than max_window builds anyway, with a loud warning: a
//   silently truncated delta would be wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"
#include "freshet/time.h"
#include "plan/merge_policy.h"
#include "sink/checkpoint.h"
#include "storage/object_store.h"

namespace freshet {

// One visible partition folder and the objects in it (any order).
struct PartitionListing {
  TimePoint time;  // slot start, as PartitionLayout::ParseKey returned it
  std::vector<ObjectInfo> objects;
  friend bool operator==(const PartitionListing&, const PartitionListing&) = default;
};

// One visible snapshot folder and the objects in it (any order).
struct SnapshotListing {
  TimePoint time;  // the instant the snapshot reflects
  std::vector<ObjectInfo> objects;
  friend bool operator==(const SnapshotListing&, const SnapshotListing&) = default;
};

struct PlannerConfig {
  Duration interval = std::chrono::minutes(5);        // partition interval; > 0
  Duration grace = std::chrono::minutes(2);           // partition end + grace <= now
  Duration snapshot_grace = std::chrono::minutes(2);  // snapshot time + this <= now
  Duration overlap = std::chrono::minutes(10);        // window starts at base - overlap
  Duration max_window = std::chrono::hours(12);       // warn above this; 0 = never warn
  Duration full_rebuild_every = std::chrono::hours(0);  // 0 = on every new snapshot
  PlanPolicy policy = PlanPolicy::kLatest;
  // Whatever else determines the output bytes: the caller sets it to the
  // schema hash + index format version. Part of every generation id; a
  // change forces a full rebuild.
  std::string salt;
};

// The planner's slice of Options.
PlannerConfig PlannerConfigFromOptions(const Options& options, std::string salt);

// kInvalidArgument naming the field when an interval is <= 0 or another
// duration is negative. Plan() REQUIRES a config that passes this.
Status ValidatePlannerConfig(const PlannerConfig& config);

// What the Lister must include for Plan() to see a complete window:
// every partition at or after `partitions_from` (all history when nullopt:
// without a base, the window starts at the oldest partition) and every
// snapshot at or after `snapshots_from` (the base's folder itself is
// needed for its objects; all when nullopt).
struct ListingBounds {
  std::optional<TimePoint> partitions_from;
  std::optional<TimePoint> snapshots_from;
};
ListingBounds ListingBoundsFor(const PlannerConfig& config, const Checkpoint& checkpoint);

// A visible input that is not eligible yet.
struct PendingInput {
  TimePoint time;         // partition slot start or snapshot time
  TimePoint eligible_at;  // when it will be
  size_t objects = 0;     // input objects (markers and empty objects excluded)
  uint64_t bytes = 0;     // their total size: the Ticker's hybrid trigger reads this
  // e.g. "not eligible until 2026-11-22T14:12:00Z (end 14:10 + grace 2m)"
  std::string reason;
  friend bool operator==(const PendingInput&, const PendingInput&) = default;
};

// Everything the Builder and Committer need for one batch.
struct BuildPlan {
  uint64_t batch_id = 0;  // = checkpoint.next_batch_id
  BatchKind kind = BatchKind::kDelta;
  std::string full_reason;  // why a full is built; "" for kDelta

  // The newest partition in the window and the watermark after the commit.
  // nullopt only for a full batch before any partition was ever eligible.
  std::optional<TimePoint> target;
  TimePoint window_start;  // instants: the window is [window_start, window_end);
  TimePoint window_end;    // = target + interval; start == end when empty
  std::vector<TimePoint> window_partitions;  // ascending; visible ones only (gaps stay gaps)
  std::vector<TimePoint> skipped;            // eligible, after the old watermark, jumped over
  size_t backlog = 0;  // eligible partitions after the target left for later batches (sequential)
  std::vector<ObjectInfo> window_objects;    // every input object of the window, ascending by key

  // The base: for kFullAndDelta the snapshot the new full is built from;
  // for kDelta the live full's snapshot (the Builder joins against it for
  // fan-out). nullopt / empty before any snapshot exists.
  std::optional<TimePoint> snapshot_time;
  std::vector<ObjectInfo> snapshot_objects;  // ascending by key

  std::string full_generation;   // new id for kFullAndDelta, else the live full ("" if none)
  std::string delta_generation;  // always new
  std::string salt;              // PlannerConfig::salt; recorded in the checkpoint on commit

  std::optional<TimePoint> previous_watermark;  // the checkpoint's, for the manifest chain
  // The checkpoint's delta chain (oldest first) that a kDelta batch's
  // segment extends; its last element is the segment's predecessor.
  std::vector<std::string> chain;
  std::vector<PendingInput> pending;            // partitions visible but not eligible
  std::vector<PendingInput> pending_snapshots;  // snapshots visible but not eligible
  std::vector<std::string> warnings;            // log loudly; the batch still builds

  friend bool operator==(const BuildPlan&, const BuildPlan&) = default;
};

// Nothing to build this trigger.
struct IdleDecision {
  // e.g. "no eligible partition newer than watermark 2026-11-22T14:05:00Z;
  // 1 pending: 2026-11-22T14:10:00Z not eligible until ..."
  std::string reason;
  // True when the planner cannot make progress until something outside it
  // changes: the base snapshot vanished and no newer eligible snapshot
  // exists to rebuild from. The actor should report this as unhealthy
  // rather than as a quiet source.
  bool blocked = false;
  std::vector<PendingInput> pending;
  std::vector<PendingInput> pending_snapshots;
  std::vector<std::string> warnings;
  friend bool operator==(const IdleDecision&, const IdleDecision&) = default;
};

struct PlanDecision {
  std::variant<IdleDecision, BuildPlan> outcome;

  const BuildPlan* build() const { return std::get_if<BuildPlan>(&outcome); }
  const IdleDecision* idle() const { return std::get_if<IdleDecision>(&outcome); }
  const std::vector<PendingInput>& pending() const {
    return build() ? build()->pending : idle()->pending;
  }
};

// REQUIRES: ValidatePlannerConfig(config).ok(); `visible` and `snapshots`
// cover at least ListingBoundsFor(config, checkpoint). Listings may come in
// any order; a time listed twice is merged; a listing with no input objects
// (see IsInputObject: only markers or empty objects) counts as not visible.
// Deterministic: the same arguments give the same decision, byte for byte.
// `visible_normalized`: the caller knows IsNormalizedListing(visible) (the
// Planner checks each listing the Lister shares once, not every tick: an
// idle tick then costs O(log n + what is newer than the watermark), not
// O(history)).
PlanDecision Plan(const PlannerConfig& config, const Checkpoint& checkpoint,
                  const std::vector<PartitionListing>& visible, const std::vector<SnapshotListing>& snapshots,
                  TimePoint now, bool visible_normalized = false);

// Whether `visible` is as Plan would normalize it: times strictly
// ascending, each one's objects input objects (IsInputObject), strictly
// ascending by key, none empty. O(objects).
bool IsNormalizedListing(const std::vector<PartitionListing>& visible);

// Since when eligible input has been waiting for a commit, as far as this
// decision shows, for the Watchdog's health rule (SPEC §4: a quiet source
// is healthy; eligible input left uncommitted is not):
// - a build: the earliest moment any of its new input became eligible (the
//   oldest partition after the old watermark: its end + grace; for a full
//   batch with no new partition, the snapshot's time + snapshot_grace);
// - idle and blocked: `now` (it cannot progress; the caller keeps the
//   earliest such time while it lasts);
// - idle otherwise: nullopt (nothing waits).
std::optional<TimePoint> WaitingSince(const PlanDecision& decision, const PlannerConfig& config, TimePoint now);

// The checkpoint after `plan` committed: watermark = max(old, target); on a
// full batch the base fields and build_salt come from the plan; the
// plan's delta becomes live; `recent` gains the batch and keeps the last
// kMaxRecentBatches; next_batch_id moves past plan.batch_id.
// The delta is a segment of `segment_bytes`: it extends the chain, or
// replaces it when `starts_chain` (it holds the whole window's delta over
// the live full: a full batch's always does, and so does a chain the
// Builder rebuilt); segments that leave the chain are kept in `retired`
// for the next kMaxRecentBatches batches, and a pending merge is dropped.
// The pending merge is not decided here (DecideMerge).
Checkpoint AdvanceCheckpoint(const Checkpoint& checkpoint, const BuildPlan& plan, bool starts_chain = false,
                             uint64_t segment_bytes = 0);
// The checkpoint with its pending merge committed as segment `merged_bytes`
// big: chain[begin, end) replaced by the merged id, the run retired until
// batch `batch_id` (the one whose commit makes the merge live) is past the
// recent window, pending_merge cleared.
// REQUIRES: checkpoint.pending_merge.
Checkpoint ApplyMerge(const Checkpoint& checkpoint, uint64_t merged_bytes, uint64_t batch_id);
// The merge the next batch's commit should carry, decided from the chain
// alone (its segments' sizes, the newest segment excluded: the Builder's
// window state names it): ChooseMerge over chain[0, n - 1), or nullopt.
std::optional<Checkpoint::PendingMerge> DecideMerge(const Checkpoint& checkpoint, const MergePolicyOptions& policy);

// False for what freshet never reads as input: empty objects and
// completion markers or hidden files (last path segment starting with '_'
// or '.', e.g. "_SUCCESS", ".part-0.tmp"), and folder placeholders ("x/").
bool IsInputObject(const ObjectInfo& object);

// Generation ids: "<kind>/<yyyymmddThhmmssZ>-<16 lowercase hex>", the time
// being the snapshot time for a full and the target for a delta, the hex
// XXH64 over a canonical serialization of every input that determines the
// generation's bytes. Same inputs, same id; any change, a new id. So a
// generation's files (manifest included) must not record anything that is
// not hashed here, such as the batch id or pending inputs.
// The time part is for people; order generations by the checkpoint/CURRENT
// chain, not by sorting ids.
std::string FullGenerationId(const std::string& salt, TimePoint snapshot_time,
                             const std::vector<ObjectInfo>& snapshot_objects);
// Hashes plan.kind, target, window (bounds, partitions, objects), skipped,
// snapshot time and objects, full_generation, salt, the predecessor and the
// warnings (which the manifest records).
std::string DeltaGenerationId(const BuildPlan& plan);

}  // namespace freshet
