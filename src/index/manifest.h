// manifest.json: the description of one generation (SPEC §3), written after
// its segment files and before CURRENT. Consumers use it to check a
// generation (file sizes and checksums), to follow a delta's chain to its
// base, and to see which window, partitions and inputs it covers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/status.h"

namespace freshet {

inline constexpr int kManifestFormatVersion = 1;
// Larger input is rejected by ParseManifest (a manifest lists a generation's
// inputs: thousands of objects at most, well under this).
inline constexpr size_t kMaxManifestBytes = 64ull << 20;

// One input object the generation was built from.
struct ManifestInput {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  friend bool operator==(const ManifestInput&, const ManifestInput&) = default;
};

// One file of the generation (segment files, quarantine), not the manifest.
struct ManifestFile {
  std::string name;
  uint64_t size = 0;
  std::string xxh64;  // Xxh64Hex() of the bytes: 16 lowercase hex digits
  friend bool operator==(const ManifestFile&, const ManifestFile&) = default;
};

struct ManifestCounts {
  uint64_t records = 0;       // input records read (good and bad)
  uint64_t bad_records = 0;   // of which quarantined
  uint64_t docs = 0;          // live documents indexed (SegmentStats::docs)
  uint64_t tombstones = 0;
  uint64_t terms = 0;
  uint64_t postings = 0;
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;  // sum of files[].size
  friend bool operator==(const ManifestCounts&, const ManifestCounts&) = default;
};

// Times are RFC 3339 strings exactly as the builder formatted them
// (FormatRfc3339), or "" where not applicable.
struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string kind;          // "full" or "delta"
  std::string generation;    // this generation's id
  std::string schema_hash;
  std::string base;          // the full generation a delta shadows; "" for a full
  // A delta segment's place in its chain (sink_layout.h: CURRENT's chain):
  // the segment it was built on, "" when it starts the chain (its inputs
  // are then the whole window). The window's objects after this segment
  // are its predecessor's, minus `removed`, plus `inputs` (a key in both
  // lists was rewritten: the new ETag is in `inputs`).
  std::string predecessor;
  std::string snapshot;      // a full's snapshot time, or ""
  std::string window_start;  // the window (window_start, window_end]
  std::string window_end;
  std::string target;        // the partition time the build targeted
  std::string watermark;     // the watermark this generation commits
  std::vector<std::string> skipped;  // partition times skipped (freshness-first debt)
  // A merged segment: the segments it replaces, oldest first; its
  // predecessor is the first one's, and inputs / removed their net effect.
  std::vector<std::string> merged;
  std::vector<ManifestInput> inputs;
  // Objects that left the window since the predecessor (the window slid
  // past them, or the source rewrote or deleted them); empty at a chain start.
  std::vector<ManifestInput> removed;
  // A delta's base snapshot objects, which it joined against for fan-out
  // (so `verify` can rebuild it); empty for a full.
  std::vector<ManifestInput> base_inputs;
  // The schema's analysed fields, so readers know which terms are text
  // tokens and which exact keywords without the daemon's config.
  std::vector<std::string> text_fields;
  std::vector<std::string> keyword_fields;
  ManifestCounts counts;
  std::vector<ManifestFile> files;
  std::string quarantine;    // the quarantine object's name (list it in `files` too), or ""
  std::vector<std::string> warnings;
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// Pretty-printed JSON, 2-space indent, keys in the fixed order of the
// struct, trailing newline. Deterministic: equal manifests give equal bytes.
std::string ManifestToJson(const Manifest& m);

// Parses and checks a manifest: every key above must be present with the
// right type; kind must be "full" or "delta", and base non-empty exactly for
// a delta; format_version must be 1;
// non-empty times and skipped entries must be RFC 3339; xxh64 must be 16
// hex digits. Unknown keys are ignored. Errors are kDataLoss naming the key
// (e.g. "manifest.json: counts.docs: missing").
Result<Manifest> ParseManifest(std::string_view json);

}  // namespace freshet
