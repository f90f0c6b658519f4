// What the Builder hands the Committer: the complete bytes of one batch's
// generations, ready to write in commit order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "index/segment_writer.h"

namespace freshet {

struct BuiltGeneration {
  std::string id;                  // e.g. "delta/20261122T140500Z-<hex>"
  std::vector<SegmentFile> files;  // segment files and quarantine; written first, any order
  std::string manifest_json;       // written after every file: its presence marks the generation complete
  uint64_t docs = 0, tombstones = 0, terms = 0;
  uint64_t output_bytes = 0;       // files + manifest
  // A delta segment holding the whole window's delta over the live full:
  // it replaces the chain rather than extending it (checkpoint.h: chain).
  bool starts_chain = false;
  // Its files and manifest are already in the sink: a merged segment the
  // Merger wrote ahead of the commit that makes it live (the commit then
  // writes only CURRENT for it). `files` keep their names and sizes.
  bool in_sink = false;
};

struct BuiltBatch {
  std::optional<BuiltGeneration> full;  // only for a full batch
  BuiltGeneration delta;
  // Inputs actually read this batch (the cached base snapshot excluded).
  uint64_t objects = 0, bytes = 0;
  uint64_t records = 0, bad_records = 0;
  // Window objects read again to rebuild the incremental state (a restart).
  uint64_t rebuilt_window_objects = 0;
  // The source as it changed under the window (ingest/ingested_window.h
  // SourceChanges): late objects ingested, objects rewritten or vanished.
  uint64_t late_objects = 0, changed_objects = 0;
  std::vector<std::string> warnings;
  double fetch_seconds = 0, parse_seconds = 0, build_seconds = 0;
};

}  // namespace freshet
