#include "commit/segment_merge.h"

#include <algorithm>

#include "commit/segment_chain.h"
#include "index/checksum.h"
#include "index/random_access_source.h"
#include "index/segment_format.h"
#include "index/segment_reader.h"
#include "sink/sink_layout.h"

namespace freshet {
namespace {

}  // namespace

Status ReadSegmentDocs(const SegmentBytes& member, std::map<std::string, IndexDoc>* docs) {
  const Manifest& m = member.manifest;
  for (const ManifestFile& f : m.files) {
    auto it = member.files.find(f.name);
    if (it == member.files.end()) return Status::DataLoss(m.generation + ": file " + f.name + " missing");
    if (it->second.size() != f.size || Xxh64Hex(it->second) != f.xxh64) {
      return Status::DataLoss(m.generation + "/" + f.name + ": bytes do not match the manifest");
    }
  }
  SegmentReader::FileOpener open = [&member](const std::string& name)
      -> Result<std::unique_ptr<RandomAccessSource>> {
    auto it = member.files.find(name);
    if (it == member.files.end()) return Status::NotFound("segment file " + name + " missing");
    return StringSource(it->second);
  };
  SegmentReaderOptions options;
  options.block_cache_bytes = 0;
  Result<std::unique_ptr<SegmentReader>> opened = SegmentReader::Open(open, options);
  if (!opened.ok()) return opened.status().WithContext(m.generation);
  const SegmentReader& r = **opened;

  // Two sequential scans: docs with their stored values, then the posting
  // lists (ascending terms, so each doc's terms come out sorted).
  std::vector<IndexDoc> mine(r.num_docs());
  FRESHET_RETURN_IF_ERROR(r.ForEachDoc([&mine](uint32_t d, std::string_view id, bool tombstone,
                                               std::string_view stored) {
    mine[d].id.assign(id);
    mine[d].tombstone = tombstone;
    mine[d].stored.assign(stored);
    return Status::Ok();
  }));
  FRESHET_RETURN_IF_ERROR(r.ForEachPostingList([&](std::string_view t, const std::vector<uint32_t>& postings) {
    for (uint32_t d : postings) {
      if (d >= mine.size()) return Status::DataLoss(m.generation + ": a posting names doc " + std::to_string(d));
      mine[d].terms.push_back(t);
    }
    return Status::Ok();
  }));
  for (IndexDoc& d : mine) {
    std::string id = d.id;
    (*docs)[std::move(id)] = std::move(d);
  }
  return Status::Ok();
}

namespace {

std::vector<ObjectInfo> WindowAfter(std::vector<ObjectInfo> window, const std::vector<SegmentBytes>& run) {
  for (const SegmentBytes& s : run) window = NextWindow(window, s.manifest);
  return window;
}

}  // namespace

Result<BuiltGeneration> MergeSegments(const GenerationContext& ctx, const std::vector<SegmentBytes>& run,
                                      const std::vector<ObjectInfo>& window_before) {
  if (run.size() < 2) return Status::InvalidArgument("a merge needs at least 2 segments");
  std::map<std::string, IndexDoc> docs;
  for (const SegmentBytes& member : run) FRESHET_RETURN_IF_ERROR(ReadSegmentDocs(member, &docs));

  SegmentWriterOptions wo;
  wo.threads = ctx.threads;
  wo.pool = ctx.pool;
  wo.ids_ascending = true;
  SegmentWriter writer(wo);
  for (auto& [id, doc] : docs) writer.Add(doc);
  docs.clear();

  const Manifest& first = run.front().manifest;
  const Manifest& last = run.back().manifest;
  Manifest m;
  m.kind = "delta";
  m.base = last.base;
  m.predecessor = first.predecessor;
  m.snapshot = last.snapshot;
  m.window_start = last.window_start;
  m.window_end = last.window_end;
  m.target = last.target;
  m.watermark = last.watermark;
  m.base_inputs = last.base_inputs;
  std::string quarantine;
  for (const SegmentBytes& s : run) {
    m.merged.push_back(s.manifest.generation);
    m.skipped.insert(m.skipped.end(), s.manifest.skipped.begin(), s.manifest.skipped.end());
    m.warnings.insert(m.warnings.end(), s.manifest.warnings.begin(), s.manifest.warnings.end());
    m.counts.records += s.manifest.counts.records;
    m.counts.bad_records += s.manifest.counts.bad_records;
    m.counts.input_bytes += s.manifest.counts.input_bytes;
    if (!s.manifest.quarantine.empty()) {
      auto it = s.files.find(s.manifest.quarantine);
      if (it != s.files.end()) quarantine += it->second;
    }
  }
  std::vector<ObjectInfo> after = WindowAfter(window_before, run);
  if (first.predecessor.empty()) {
    // The run starts the chain: its window is listed whole.
    for (const ObjectInfo& o : after) m.inputs.push_back({o.key, o.size, o.etag});
  } else {
    NetChange(window_before, after, &m.inputs, &m.removed);
  }
  std::string id = MergedSegmentId(m.merged);
  return AssembleGeneration(ctx, std::move(id), std::move(m), writer, std::move(quarantine));
}

}  // namespace freshet
