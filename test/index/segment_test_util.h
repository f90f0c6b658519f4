// Helpers shared by the segment tests: build a segment from docs and open
// it over in-memory sources.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/segment_reader.h"
#include "index/segment_writer.h"

namespace freshet::testing_index {

using FileMap = std::map<std::string, std::string>;

inline FileMap ToMap(const std::vector<SegmentFile>& files) {
  FileMap m;
  for (const auto& f : files) m[f.name] = f.bytes;
  return m;
}

inline Result<FileMap> Build(const std::vector<IndexDoc>& docs, SegmentWriterOptions options = {}) {
  SegmentWriter w(options);
  for (const auto& d : docs) w.Add(d);
  FRESHET_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, w.Finish());
  return ToMap(files);
}

inline Result<std::unique_ptr<SegmentReader>> OpenMap(const FileMap& files) {
  return SegmentReader::Open(
      [&files](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
        auto it = files.find(name);
        if (it == files.end()) return Status::NotFound("no file " + name);
        return StringSource(it->second);
      });
}

}  // namespace freshet::testing_index
