// Where things live in the sink, and the commit point's format.
//
//   CURRENT                       the commit point: names the live full and
//                                 delta and embeds the planner checkpoint
//                                 (the durable watermark); written last,
//                                 read first (sink/sink_state.h)
//   full/<stamp>-<hex>/...        one immutable generation per directory:
//   delta/<stamp>-<hex>/...       segment files, quarantine, manifest.json
//
// A generation is complete iff its manifest.json exists (written after every
// other file of it); CURRENT names only complete generations (written after
// the manifests). Readers therefore never see a half-built index.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/status.h"
#include "freshet/time.h"
#include "sink/checkpoint.h"

namespace freshet {

inline constexpr std::string_view kCurrentKey = "CURRENT";
// Written by freshet up to 0.1 after CURRENT; never read for state now
// (sink/sink_state.h) and removed by the daemon at start-up.
inline constexpr std::string_view kLegacyCheckpointKey = "_freshet/checkpoint.json";
inline constexpr std::string_view kManifestName = "manifest.json";
inline constexpr std::string_view kQuarantineName = "quarantine.ndjson";
inline constexpr int kCurrentFormat = 1;
// Larger input is rejected by DecodeCurrent: a real one is 2-8 KB.
inline constexpr size_t kMaxCurrentBytes = 256 * 1024;

// "<generation>/<file>", e.g. "delta/20261122T140500Z-0123456789abcdef/terms".
std::string GenerationFileKey(std::string_view generation, std::string_view file);

struct CurrentPointer {
  std::string full;                    // live full generation id; "" when none
  std::string delta;                   // live delta generation id; "" when none
  // The delta segments since the full, oldest first; the last is `delta`.
  // A reader overlays them newest first. (A CURRENT written before chains
  // has no "chain": it decodes as the chain of its one delta.)
  std::vector<std::string> chain;
  std::optional<TimePoint> watermark;  // newest partition the delta covers
  // The planner checkpoint as of this commit: what a restart resumes from.
  Checkpoint checkpoint;
  friend bool operator==(const CurrentPointer&, const CurrentPointer&) = default;
};

// The CURRENT that names what `checkpoint` committed: its full, its chain
// (a checkpoint from before chains: its one delta) and its watermark.
CurrentPointer CurrentFrom(Checkpoint checkpoint);

// Deterministic JSON (fixed key order, trailing newline).
std::string EncodeCurrent(const CurrentPointer& current);
// Strict, as every document freshet writes whole (base/json_reader.h):
// kDataLoss naming the key for malformed content or an unknown key;
// kFailedPrecondition for a format written by another freshet version.
Result<CurrentPointer> DecodeCurrent(std::string_view json);

}  // namespace freshet
