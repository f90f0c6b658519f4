// Reading and checking a local sink directory from the outside, without the
// daemon's code: CURRENT (with its embedded checkpoint), generation manifests and
// their files (size + XXH64), and byte comparison of two sinks.
//
// The layout checked (src/sink/sink_layout.h, src/index/manifest.h):
//   CURRENT                   {"format":1,"full":..,"delta":..,"watermark":..,"checkpoint":{..}}
//   <kind>/<id>/manifest.json lists every other file with size and xxh64
// Files named ".freshet-tmp-*" are the local store's temp files, not
// objects; everything here ignores them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace freshet::e2e {

// Seconds since the Unix epoch of an RFC 3339 UTC time ("2026-01-01T00:55:00Z",
// optionally with fractional seconds); nullopt when malformed.
std::optional<int64_t> ParseUtcSeconds(const std::string& rfc3339);

struct SinkCheckpoint {
  std::optional<std::string> watermark;      // RFC 3339, as written
  std::optional<std::string> base_snapshot;  // RFC 3339, as written
  std::string base_generation;
  std::string delta_generation;
  uint64_t next_batch_id = 0;
  std::vector<std::string> recent_targets;   // targets of the recent batches, oldest first
  std::vector<std::string> recent_deltas;    // their delta generations
};

struct SinkCurrent {
  std::string raw;  // the file's bytes
  std::string full;
  std::string delta;
  std::optional<std::string> watermark;
  SinkCheckpoint checkpoint;  // the embedded one
};

struct ManifestFileEntry {
  std::string name;
  uint64_t size = 0;
  std::string xxh64;
};

struct GenerationManifest {
  std::string kind;
  std::string generation;
  std::string base;
  std::string snapshot;
  std::string target;
  std::string watermark;
  std::vector<std::string> skipped;
  uint64_t docs = 0;
  uint64_t tombstones = 0;
  std::vector<ManifestFileEntry> files;
};

// Absent CURRENT: success with *out = nullopt. Malformed: failure.
::testing::AssertionResult ReadCurrent(const std::string& sink_dir, std::optional<SinkCurrent>* out);
::testing::AssertionResult ReadManifest(const std::string& sink_dir, const std::string& generation,
                                        GenerationManifest* out);

// The generation's manifest exists, parses, names this generation and
// kind, and every file it lists exists with the listed size and XXH64; no
// other object lives in the generation's directory.
::testing::AssertionResult CheckGeneration(const std::string& sink_dir, const std::string& generation);

// What a reader may rely on at any instant, crash or not: CURRENT is absent,
// or it parses, names complete generations that pass CheckGeneration, the
// delta's manifest names CURRENT's full as its base and carries CURRENT's
// watermark, and the embedded checkpoint agrees with CURRENT; and there is
// no _freshet/checkpoint.json (freshet 0.1's copy, never written now).
::testing::AssertionResult CheckSinkConsistent(const std::string& sink_dir);

// The durable progress marker: CURRENT's watermark (nullopt when CURRENT
// or its watermark is absent).
struct SinkProgress {
  std::optional<int64_t> current_watermark;
};
::testing::AssertionResult ReadProgress(const std::string& sink_dir, SinkProgress* out);
// The marker did not move backwards (or disappeared) from `before` to `after`.
::testing::AssertionResult ProgressNotRegressed(const SinkProgress& before, const SinkProgress& after);

// Every object (relative path -> bytes) under `dir`, recursively, except
// local-store temp files. Empty for a missing directory.
std::map<std::string, std::string> ReadTree(const std::string& dir);
// Number of local-store temp files left under `dir` (debris of a kill).
size_t CountTempFiles(const std::string& dir);

// CURRENT (which embeds the checkpoint) and every object of the
// generations CURRENT names are byte-identical in both sinks.
::testing::AssertionResult SameLiveBytes(const std::string& sink_a, const std::string& sink_b);
// Every object under both sinks is byte-identical and both hold the same keys.
::testing::AssertionResult SameTree(const std::string& dir_a, const std::string& dir_b);

}  // namespace freshet::e2e
