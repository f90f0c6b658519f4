// Reading a sink's commit point and generations: CURRENT, a generation's
// manifest, and its segment opened over ranged GETs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/status.h"
#include "index/manifest.h"
#include "index/segment_reader.h"
#include "sink/sink_layout.h"
#include "storage/object_store.h"

namespace freshet {

// The decoded CURRENT; kNotFound when the sink has none (nothing was
// published yet), kDataLoss when it is malformed.
Result<CurrentPointer> ReadCurrent(ObjectStore& sink);

// Reads and parses "<generation>/manifest.json" and checks that it
// describes `generation` (its `generation` field) and, when
// `expected_kind` is non-empty, that its kind is that ("full" / "delta").
// kNotFound when the manifest is missing, kDataLoss when it is malformed
// or describes something else.
Result<Manifest> ReadManifest(ObjectStore& sink, const std::string& generation,
                              std::string_view expected_kind = "");

// One generation opened for queries. Immutable; safe to share between
// threads.
struct OpenedGeneration {
  std::string id;
  Manifest manifest;
  std::unique_ptr<SegmentReader> segment;
};

// Reads the manifest and opens the segment through StoreRangeSource, with
// the sizes the manifest records (so no HEAD requests). kDataLoss when the
// manifest lacks one of the segment's files.
Result<std::shared_ptr<const OpenedGeneration>> OpenGeneration(const std::shared_ptr<ObjectStore>& sink,
                                                               const std::string& generation,
                                                               std::string_view expected_kind,
                                                               SegmentReaderOptions options = {});

// A generation directory found under "full/" or "delta/".
struct RetainedGeneration {
  std::string id;         // e.g. "delta/20261122T140500Z-0123456789abcdef"
  bool complete = false;  // has its manifest.json (else: an interrupted write)
  uint64_t files = 0;     // objects under it, the manifest included
  uint64_t bytes = 0;
};

// Every generation under `kind` + "/" ("full" or "delta"), ascending by id.
Result<std::vector<RetainedGeneration>> ListGenerations(ObjectStore& sink, std::string_view kind);

}  // namespace freshet
