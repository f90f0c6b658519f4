#include "reader/generation_check.h"

#include <algorithm>

#include "index/checksum.h"
#include "reader/opened_generation.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

bool IsDataProblem(const Status& st) {
  return st.code() == StatusCode::kDataLoss || st.code() == StatusCode::kNotFound ||
         st.code() == StatusCode::kInvalidArgument;
}

// Streams `key` and compares it with `f`. Returns a problem ("" = fine),
// or an error when the store fails.
Result<std::string> CheckFile(ObjectStore& sink, const std::string& key, const ManifestFile& f, uint64_t chunk,
                              uint64_t* bytes) {
  Xxh64Stream digest;
  uint64_t offset = 0, size = 0;
  do {
    GetRequest req;
    req.key = key;
    req.range = ByteRange{offset, chunk};
    Result<GetResult> got = GetSync(sink, std::move(req));
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return key + ": missing";
      return got.status().WithContext(key);
    }
    if (offset == 0) size = got->info.size;
    if (got->info.size != size) return key + ": changed size while being read";
    if (got->body.empty() && offset < size) return key + ": short read at " + std::to_string(offset);
    digest.Update(got->body);
    offset += got->body.size();
    *bytes += got->body.size();
  } while (offset < size);
  if (size != f.size) {
    return key + ": size " + std::to_string(size) + ", manifest says " + std::to_string(f.size);
  }
  const std::string hex = Xxh64ToHex(digest.Digest());
  if (hex != f.xxh64) return key + ": xxh64 " + hex + ", manifest says " + f.xxh64;
  return std::string();
}

}  // namespace

Result<GenerationCheck> CheckGeneration(const std::shared_ptr<ObjectStore>& sink, const std::string& generation,
                                        uint64_t chunk_bytes) {
  GenerationCheck check;
  check.generation = generation;
  Result<Manifest> manifest = ReadManifest(*sink, generation);
  if (!manifest.ok()) {
    if (!IsDataProblem(manifest.status())) return manifest.status();
    check.problems.push_back(manifest.status().message());
    return check;
  }
  bool files_intact = true;
  for (const ManifestFile& f : manifest->files) {
    FRESHET_ASSIGN_OR_RETURN(
        std::string problem,
        CheckFile(*sink, GenerationFileKey(generation, f.name), f, chunk_bytes, &check.bytes_checked));
    ++check.files_checked;
    if (!problem.empty()) {
      files_intact = false;
      check.problems.push_back(std::move(problem));
    }
  }
  uint64_t total = 0;
  for (const ManifestFile& f : manifest->files) total += f.size;
  if (total != manifest->counts.output_bytes) {
    check.problems.push_back(GenerationFileKey(generation, kManifestName) + ": counts.output_bytes " +
                             std::to_string(manifest->counts.output_bytes) + " but files sum to " +
                             std::to_string(total));
  }
  // The structural check reads through the manifest's sizes, so it only
  // means something (and only names the right file) when those held.
  if (files_intact) {
    Result<std::shared_ptr<const OpenedGeneration>> opened = OpenGeneration(sink, generation, "");
    Status st = opened.ok() ? (*opened)->segment->Verify() : opened.status();
    if (!st.ok()) {
      if (!IsDataProblem(st)) return st;
      check.problems.push_back(generation + ": " + st.message());
    } else {
      const SegmentStats& s = (*opened)->segment->stats();
      const ManifestCounts& c = manifest->counts;
      if (s.docs != c.docs || s.tombstones != c.tombstones || s.terms != c.terms || s.postings != c.postings) {
        check.problems.push_back(GenerationFileKey(generation, kManifestName) +
                                 ": counts differ from the segment's (docs " + std::to_string(s.docs) +
                                 ", tombstones " + std::to_string(s.tombstones) + ", terms " +
                                 std::to_string(s.terms) + ", postings " + std::to_string(s.postings) + ")");
      }
    }
  }
  return check;
}

}  // namespace freshet
