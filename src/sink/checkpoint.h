// The planner's durable state: the watermark, the live generations and the
// last few batch descriptors, plus its JSON codec.
//
// O(1) by design (SPEC §4): no list of seen files or partitions, ever. What
// the planner needs from history is the watermark (partitions <= it are
// done) and the base snapshot (everything before it is in the live full);
// the listing supplies the rest on every trigger. That is what makes
// restart-as-design work: read the checkpoint, list, plan, carry on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_reader.h"
#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

// What a batch builds. The numeric values are not persisted (the codec
// writes names), but keep them stable anyway: they appear in messages.
enum class BatchKind : uint8_t {
  kDelta = 1,         // a delta over the window, on the live full
  kFullAndDelta = 2,  // a new full from a snapshot plus a delta on it, committed together
};

// "delta" / "full_and_delta": the spelling in checkpoints, manifests and logs.
std::string_view BatchKindName(BatchKind kind);
std::optional<BatchKind> ParseBatchKind(std::string_view name);

// One committed batch, as remembered in the checkpoint's `recent` list.
struct BatchDescriptor {
  uint64_t batch_id = 0;
  BatchKind kind = BatchKind::kDelta;
  std::optional<TimePoint> target;  // nullopt: a full build before any partition existed
  std::string full_generation;      // live full after this batch, e.g. "full/20261122T120000Z-<hex>"
  std::string delta_generation;     // e.g. "delta/20261122T140500Z-<hex>"
  friend bool operator==(const BatchDescriptor&, const BatchDescriptor&) = default;
};

struct Checkpoint {
  // Newest partition built AND committed; never moves backwards.
  // nullopt: nothing committed yet.
  std::optional<TimePoint> watermark;
  // Snapshot time of the live full (the base); nullopt: no full yet.
  std::optional<TimePoint> base_snapshot;
  std::string base_generation;   // the live full, "" when none
  std::string delta_generation;  // the live delta, "" when none: the newest segment of `chain`
  // The delta segments since the live full, oldest first (SPEC §3: the
  // chain a reader overlays newest first). Its last element is
  // delta_generation; empty iff that is "". Bounded by the merge policy.
  std::vector<std::string> chain;
  // Each chain segment's size in bytes (files and manifest), parallel to
  // `chain`: what the merge policy weighs. 0 where unknown (a checkpoint
  // written before chains).
  std::vector<uint64_t> chain_bytes;
  // The merge decided after the last batch (plan/merge_policy.h): the
  // segments chain[begin, begin + run.size()) merge into segment `id`,
  // which the next batch's commit makes live with its own segment. Decided
  // from the chain alone and committed at a fixed point, so the same
  // history gives the same chain whatever the timing (SPEC §3).
  struct PendingMerge {
    size_t begin = 0;
    std::vector<std::string> run;
    std::string id;
    friend bool operator==(const PendingMerge&, const PendingMerge&) = default;
  };
  std::optional<PendingMerge> pending_merge;
  // Segments that left the chain (a merge replaced them, or a new full or
  // a rebuilt chain started over) within the last kMaxRecentBatches
  // batches: a reader that opened an older CURRENT may still read them, so
  // retention keeps them until batch `until_batch` has committed.
  struct Retired {
    std::string id;
    uint64_t until_batch = 0;
    friend bool operator==(const Retired&, const Retired&) = default;
  };
  std::vector<Retired> retired;
  // The PlannerConfig::salt the live full was built with. A different salt
  // (schema or format change) makes the planner rebuild the full.
  std::string build_salt;
  // The last kMaxRecentBatches committed batches, oldest first.
  std::vector<BatchDescriptor> recent;
  uint64_t next_batch_id = 1;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

inline constexpr size_t kMaxRecentBatches = 8;
// Longer chains or retired lists are rejected by DecodeCheckpoint (the
// merge policy keeps a chain under its max_segments, at most 64).
inline constexpr size_t kMaxChainLength = 256;
inline constexpr size_t kMaxRetiredSegments = 512;
// Larger input is rejected by DecodeCheckpoint: a real one is 2-8 KB.
inline constexpr size_t kMaxCheckpointBytes = 256 * 1024;
inline constexpr int kCheckpointFormat = 1;

// The chain a checkpoint or CURRENT with live delta `delta` names: `chain`,
// or when that is empty (a checkpoint made before chains, or by hand) the
// chain of the one delta. The encoders write this.
std::vector<std::string> EffectiveChain(const std::string& delta, const std::vector<std::string>& chain);

// Deterministic JSON: fixed key order, no whitespace, times in RFC 3339
// UTC, absent times as null, and a "format":1 field first. The same
// Checkpoint always encodes to the same bytes.
std::string EncodeCheckpoint(const Checkpoint& cp);

// The inverse of EncodeCheckpoint. Strict: every key is required; unknown
// keys, wrong types, bad times, unknown kinds, more than kMaxRecentBatches
// recent batches, next_batch_id 0 or input larger than kMaxCheckpointBytes
// give kDataLoss (the stored bytes are bad; retrying will not help), and a
// "format" other than kCheckpointFormat gives kFailedPrecondition (written
// by another freshet version). Messages name the key. Total: never
// crashes, whatever the bytes.
Result<Checkpoint> DecodeCheckpoint(std::string_view json);
// The same, for a checkpoint embedded in another document (CURRENT).
Result<Checkpoint> DecodeCheckpoint(const JsonObject& object);

}  // namespace freshet
