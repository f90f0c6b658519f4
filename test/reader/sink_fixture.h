// Test helpers for the reader: analysed documents built the way the
// indexer builds them (Tokenize for text fields, raw values for keyword
// fields), written as generations (segment files + manifest) and CURRENT
// into a MemoryStore.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/checksum.h"
#include "index/index_doc.h"
#include "index/manifest.h"
#include "index/segment_writer.h"
#include "index/tokenizer.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet::reader_test {

inline const std::vector<std::string> kText = {"title", "description"};
inline const std::vector<std::string> kKeyword = {"country", "tags"};

// One source document: field -> values (text fields take one value each).
struct Doc {
  std::string id;
  std::map<std::string, std::vector<std::string>> fields;
  bool tombstone = false;
};

inline std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// Stored JSON: {"id":..., then each field in name order, lists as arrays}.
inline std::string StoredJson(const Doc& d) {
  std::string out = "{\"id\":" + JsonString(d.id);
  for (const auto& [field, values] : d.fields) {
    out += "," + JsonString(field) + ":";
    if (values.size() == 1) {
      out += JsonString(values[0]);
    } else {
      out += "[";
      for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + JsonString(values[i]);
      out += "]";
    }
  }
  return out + "}";
}

inline bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

inline IndexDoc Analyse(const Doc& d, const std::vector<std::string>& text = kText,
                        const std::vector<std::string>& keyword = kKeyword) {
  IndexDoc out;
  out.id = d.id;
  out.tombstone = d.tombstone;
  if (d.tombstone) return out;
  for (const auto& [field, values] : d.fields) {
    for (const std::string& v : values) {
      if (Contains(text, field)) {
        auto tokens = Tokenize(v);
        EXPECT_TRUE(tokens.ok()) << v;
        if (tokens.ok()) {
          for (const auto& t : *tokens) out.terms.push_back(MakeTerm(field, t));
        }
      } else if (Contains(keyword, field)) {
        out.terms.push_back(MakeTerm(field, v));
      }
    }
  }
  out.stored = StoredJson(d);
  return out;
}

struct GenerationSpec {
  std::string id;    // "full/..." or "delta/..."
  std::string base;  // for a delta
  std::vector<Doc> docs;
  SegmentWriterOptions writer;
  bool record_fields = true;  // write text_fields / keyword_fields into the manifest
  std::vector<std::string> text = kText;
  std::vector<std::string> keyword = kKeyword;
  std::string watermark;  // RFC 3339 or ""
};

inline std::string KindOf(const std::string& id) { return id.substr(0, id.find('/')); }

// Writes the segment files and the manifest; returns the file bytes by name.
inline std::map<std::string, std::string> WriteGeneration(ObjectStore& store, const GenerationSpec& spec) {
  SegmentWriter writer(spec.writer);
  for (const Doc& d : spec.docs) writer.Add(Analyse(d, spec.text, spec.keyword));
  auto files = writer.Finish();
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  std::map<std::string, std::string> out;
  Manifest m;
  m.kind = KindOf(spec.id);
  m.generation = spec.id;
  m.schema_hash = "0123456789abcdef";
  m.base = spec.base;
  m.watermark = spec.watermark;
  if (spec.record_fields) {
    m.text_fields = spec.text;
    m.keyword_fields = spec.keyword;
  }
  const SegmentStats& st = writer.stats();
  m.counts.docs = st.docs;
  m.counts.tombstones = st.tombstones;
  m.counts.terms = st.terms;
  m.counts.postings = st.postings;
  if (files.ok()) {
    for (const SegmentFile& f : *files) {
      m.files.push_back({f.name, f.bytes.size(), Xxh64Hex(f.bytes)});
      m.counts.output_bytes += f.bytes.size();
      EXPECT_TRUE(PutSync(store, GenerationFileKey(spec.id, f.name), f.bytes).ok());
      out[f.name] = f.bytes;
    }
  }
  EXPECT_TRUE(PutSync(store, GenerationFileKey(spec.id, kManifestName), ManifestToJson(m)).ok());
  return out;
}

inline void WriteCurrent(ObjectStore& store, const std::string& full, const std::string& delta,
                         std::optional<TimePoint> watermark = std::nullopt) {
  CurrentPointer c;
  c.full = full;
  c.delta = delta;
  c.watermark = watermark;
  c.checkpoint.watermark = watermark;
  c.checkpoint.base_generation = full;
  c.checkpoint.delta_generation = delta;
  ASSERT_TRUE(PutSync(store, std::string(kCurrentKey), EncodeCurrent(c)).ok());
}

// A process-wide MemoryStore with a unique name, dropped at scope exit.
class NamedStore {
 public:
  NamedStore() {
    static std::atomic<int> counter{0};
    name_ = "reader-test-" + std::to_string(counter++);
    store_ = MemoryStore::OpenNamed(name_);
  }
  ~NamedStore() { MemoryStore::DropNamed(name_); }
  MemoryStore& operator*() { return *store_; }
  MemoryStore* operator->() { return store_.get(); }
  std::string uri() const { return "mem://" + name_; }

 private:
  std::string name_;
  std::unique_ptr<MemoryStore> store_;
};

}  // namespace freshet::reader_test
