// Merging adjacent delta segments of a chain into one (SPEC §3): the
// document set a reader sees through the run, as one segment.
//
// A run's segments are read oldest first and their documents unioned by
// id, a newer segment's version (live or tombstone) replacing an older
// one's; a tombstone stays (it may shadow the full). Each document's terms
// come back from the segment's own postings (the inverted index inverted
// once more), its stored JSON from the stored file, so the merged segment
// indexes exactly what its members did, and the same documents give the
// same bytes whichever segments they came from: merging a whole chain whose
// batches only added objects gives the files of the from-scratch delta over
// the same window (segment_merge_test).
//
// The manifest: the last member's window, target and watermark; the first
// member's predecessor; `merged` names the members; `inputs` / `removed`
// are the run's net change to the window (segment_chain.h: NetChange), so
// the chain still folds to the same window.
//
// Pure and synchronous: the Merger actor runs it on the compute pool.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "commit/built_batch.h"
#include "commit/generation_builder.h"
#include "index/manifest.h"
#include "plan/merge_policy.h"
#include "storage/object_store.h"

namespace freshet {

// One member of a run: its manifest and its files' bytes by name (every
// file its manifest lists).
struct SegmentBytes {
  Manifest manifest;
  std::map<std::string, std::string> files;
};

// The documents of one segment by id, each with its terms read back out of
// the postings. kDataLoss when the bytes do not match the manifest.
Status ReadSegmentDocs(const SegmentBytes& segment, std::map<std::string, IndexDoc>* docs);

// Merges `run` (oldest first, at least 2, adjacent in their chain).
// `window_before`: the window the chain had before the run's first member
// (segment_chain.h: ChainWindow of the segments before it), ascending.
// kDataLoss when a member's bytes do not match its manifest or do not read.
Result<BuiltGeneration> MergeSegments(const GenerationContext& ctx, const std::vector<SegmentBytes>& run,
                                      const std::vector<ObjectInfo>& window_before);

}  // namespace freshet
