// `freshet inspect --verify`: checks a stored generation against its
// manifest, file by file, without holding any file in memory whole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "freshet/status.h"
#include "index/manifest.h"
#include "storage/object_store.h"

namespace freshet {

struct GenerationCheck {
  std::string generation;
  // One line per problem, each naming the file: "delta/x/terms: size 123,
  // manifest says 124". Empty when the generation is intact.
  std::vector<std::string> problems;
  uint64_t files_checked = 0;
  uint64_t bytes_checked = 0;
  bool ok() const { return problems.empty(); }
};

// Reads the manifest, then streams every listed file in ranged GETs of
// `chunk_bytes`, comparing its size and XXH64 with the manifest, and runs
// SegmentReader::Verify over the segment. Problems with the data are
// reported in the result, not as errors; errors are only what prevents
// checking at all (the store failing, e.g. kUnavailable). A missing or
// unparsable manifest is a problem too.
// REQUIRES: chunk_bytes > 0; the blocking store helpers may be used.
Result<GenerationCheck> CheckGeneration(const std::shared_ptr<ObjectStore>& sink, const std::string& generation,
                                        uint64_t chunk_bytes = 4 * 1024 * 1024);

}  // namespace freshet
