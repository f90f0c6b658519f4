#include "reader/opened_generation.h"

#include "reader/store_range_source.h"
#include "sink/sink_state.h"
#include "storage/blocking_store.h"

namespace freshet {

Result<CurrentPointer> ReadCurrent(ObjectStore& sink) {
  FRESHET_ASSIGN_OR_RETURN(std::optional<CurrentPointer> current, ReadCurrentPointer(sink));
  if (!current) {
    return Status::NotFound(sink.Describe() + " has no " + std::string(kCurrentKey) + ": nothing published yet");
  }
  return std::move(*current);
}

Result<Manifest> ReadManifest(ObjectStore& sink, const std::string& generation, std::string_view expected_kind) {
  const std::string key = GenerationFileKey(generation, kManifestName);
  Result<GetResult> got = GetSync(sink, key);
  if (!got.ok()) return got.status().WithContext("reading " + key);
  Result<Manifest> m = ParseManifest(got->body);
  if (!m.ok()) return m.status().WithContext(key);
  if (m->generation != generation) {
    return Status::DataLoss(key + ": describes generation '" + m->generation + "'");
  }
  if (!expected_kind.empty() && m->kind != expected_kind) {
    return Status::DataLoss(key + ": kind is '" + m->kind + "', expected '" + std::string(expected_kind) + "'");
  }
  return m;
}

Result<std::shared_ptr<const OpenedGeneration>> OpenGeneration(const std::shared_ptr<ObjectStore>& sink,
                                                               const std::string& generation,
                                                               std::string_view expected_kind,
                                                               SegmentReaderOptions options) {
  auto g = std::make_shared<OpenedGeneration>();
  g->id = generation;
  FRESHET_ASSIGN_OR_RETURN(g->manifest, ReadManifest(*sink, generation, expected_kind));
  const Manifest& m = g->manifest;
  SegmentReader::FileOpener opener =
      [&sink, &m, &generation](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
    for (const ManifestFile& f : m.files) {
      if (f.name == name) return StoreRangeSource(sink, GenerationFileKey(generation, name), f.size);
    }
    return Status::DataLoss(GenerationFileKey(generation, kManifestName) + ": lists no file '" + name + "'");
  };
  Result<std::unique_ptr<SegmentReader>> segment = SegmentReader::Open(std::move(opener), options);
  if (!segment.ok()) return segment.status().WithContext(generation);
  g->segment = std::move(segment).value();
  return std::shared_ptr<const OpenedGeneration>(std::move(g));
}

Result<std::vector<RetainedGeneration>> ListGenerations(ObjectStore& sink, std::string_view kind) {
  const std::string prefix = std::string(kind) + "/";
  FRESHET_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, ListAllSync(sink, prefix));
  std::vector<RetainedGeneration> out;
  for (const ObjectInfo& o : objects) {
    const size_t slash = o.key.find('/', prefix.size());
    if (slash == std::string::npos) continue;  // a stray object directly under the prefix
    std::string id = o.key.substr(0, slash);
    if (out.empty() || out.back().id != id) out.push_back(RetainedGeneration{std::move(id)});
    RetainedGeneration& g = out.back();
    ++g.files;
    g.bytes += o.size;
    if (std::string_view(o.key).substr(slash + 1) == kManifestName) g.complete = true;
  }
  return out;
}

}  // namespace freshet
