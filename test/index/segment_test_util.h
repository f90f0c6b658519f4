// Helpers shared by the segment tests: build a segment from docs and open
// it over in-memory sources.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/checksum.h"
#include "index/coding.h"
#include "index/segment_format.h"
#include "index/segment_reader.h"
#include "index/segment_writer.h"

namespace freshet::testing_index {

using FileMap = std::map<std::string, std::string>;

inline FileMap ToMap(const std::vector<SegmentFile>& files) {
  FileMap m;
  for (const auto& f : files) {
    Result<std::string> bytes = f.Contents();  // a spooled file read back
    m[f.name] = bytes.ok() ? std::move(bytes).value() : "<unreadable: " + bytes.status().ToString() + ">";
  }
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

// Recomputes every block checksum (walking blocks by their length fields)
// and the footer's checksums, so tests can reach the structural checks
// that sit behind the checksums.
inline void Reseal(std::string* f) {
  if (f->size() < kSegmentHeaderSize + kSegmentFooterSize) return;
  const size_t footer = f->size() - kSegmentFooterSize;
  size_t at = kSegmentHeaderSize;
  std::string enc;
  while (at + kBlockOverhead <= footer) {
    const uint64_t len = DecodeFixed32(f->data() + at + 1);
    if (len > footer - at - kBlockOverhead) break;
    enc.clear();
    PutFixed64(&enc, Xxh64(std::string_view(f->data() + at, kBlockHeaderSize + len)));
    f->replace(at + kBlockHeaderSize + len, 8, enc);
    at += kBlockOverhead + len;
  }
  enc.clear();
  PutFixed64(&enc, Xxh64(std::string_view(f->data(), footer)));
  f->replace(footer + 40, 8, enc);
  enc.clear();
  PutFixed64(&enc, Xxh64(std::string_view(f->data() + footer, 48)));
  f->replace(footer + 48, 8, enc);
}

}  // namespace freshet::testing_index
