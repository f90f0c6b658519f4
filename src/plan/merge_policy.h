// Which delta segments to merge next: a deterministic tiered policy over
// the chain of segments since the live full (SPEC §1, §3).
//
// Each batch commits one small segment; left alone, the chain would grow by
// one segment per trigger and every reader would overlay them all. The
// policy keeps it short the way Lucene's tiered policy keeps an index's
// segment count logarithmic: merge runs of similar size, so each byte is
// rewritten about log_{merge_factor}(chain bytes / segment bytes) times.
// Only adjacent segments can merge (below), so the policy is size-tiered
// the way RocksDB's universal compaction is: runs grow from the newest end.
//
// The rules, in order:
// 1. Sizes below `floor_bytes` count as `floor_bytes`, so the many tiny
//    segments of a quiet hour look alike and merge readily.
// 2. Tiered: for each end, newest first, a run starts at the segment before
//    it and extends to older segments while the next older one is at most
//    `size_ratio` times the run's (floored) total so far. The first run of
//    at least `merge_factor` segments is merged. So the small segments of
//    recent batches merge into one, which later joins its older peers: the
//    chain stays ordered large (old) to small (new), and a simulated three
//    days of 5-minute batches keep it at most 12 long while each byte is
//    rewritten about 3 times (merge_policy_test).
// 3. Cap: otherwise, when the chain is longer than `max_segments`, the
//    adjacent run of `merge_factor` segments (fewer if the chain is short)
//    with the smallest total size is merged (the oldest on a tie).
// 4. Otherwise nothing.
//
// Only adjacent segments merge: a newer segment shadows an older one
// (doc by doc, tombstones included), and a merged run keeps that order.
// Pure and deterministic: the same chain gives the same choice, so a
// restarted daemon continues the same merges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "freshet/status.h"

namespace freshet {

struct MergePolicyOptions {
  size_t merge_factor = 4;             // segments per merge; >= 2
  double size_ratio = 1.0;             // an older segment joins a run while at most this times the run; > 0
  size_t max_segments = 24;            // chain length cap; >= merge_factor
  uint64_t floor_bytes = 1 << 20;      // sizes below count as this
};

// kInvalidArgument naming the field when an option is out of range.
Status ValidateMergePolicy(const MergePolicyOptions& options);

// A merge: segments [begin, end) of the chain (oldest first), end - begin >= 2.
struct MergeChoice {
  size_t begin = 0;
  size_t end = 0;
  std::string reason;  // "tiered: 4 segments within 4x (1.0 MiB .. 1.2 MiB)"
  friend bool operator==(const MergeChoice&, const MergeChoice&) = default;
};

// `sizes`: the segments' sizes in bytes, oldest first.
// REQUIRES: ValidateMergePolicy(options).ok().
std::optional<MergeChoice> ChooseMerge(const std::vector<uint64_t>& sizes, const MergePolicyOptions& options);

// The id of the segment merging `run` (ids, oldest first): the newest
// member's time stamp and a hash of every member's id. Deterministic.
std::string MergedSegmentId(const std::vector<std::string>& run);

}  // namespace freshet
