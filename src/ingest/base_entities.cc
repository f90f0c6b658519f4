#include "ingest/base_entities.h"

#include <cstdio>

#include "index/coding.h"
#include "index/index_doc.h"

namespace freshet {
namespace {

constexpr std::string_view kParentField = "parent";

std::string LevelTag(uint16_t level) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(level));
  return buf;
}

std::string EntityDocId(uint16_t level, std::string_view id) {
  std::string k = LevelTag(level);
  k.push_back('\0');
  k.append(id);
  return k;
}

std::string ParentValue(uint16_t level, std::string_view parent) {
  std::string v = LevelTag(level);
  v.push_back('\0');
  v.append(parent);
  return v;
}

}  // namespace

std::string EncodeEntityRecord(const EntityRecord& r) {
  std::string out;
  out.reserve(r.fields_json.size() + r.id.size() + r.parent_id.size() + r.source.size() + 8 * r.fields.size() + 32);
  PutVarint32(&out, r.level);
  PutLengthPrefixed(&out, r.id);
  PutLengthPrefixed(&out, r.parent_id);
  PutFixed64(&out, static_cast<uint64_t>(r.version));
  out.push_back(static_cast<char>((r.deleted ? 1 : 0) | (r.active ? 2 : 0)));
  PutLengthPrefixed(&out, r.fields_json);
  PutVarint32(&out, static_cast<uint32_t>(r.fields.size()));
  for (const ValueSpan& s : r.fields) {
    PutVarint32(&out, s.offset);
    PutVarint32(&out, s.length);
  }
  PutFixed64(&out, r.tiebreak);
  PutLengthPrefixed(&out, r.source);
  PutVarint32(&out, r.line);
  return out;
}

Result<EntityRecord> DecodeEntityRecord(std::string_view in) {
  EntityRecord r;
  auto bad = [] { return Status::DataLoss("entity record: truncated or malformed encoding"); };
  uint32_t level = 0, n = 0, line = 0;
  std::string_view id, parent, json, source;
  if (!GetVarint32(&in, &level) || level > 0xffff || !GetLengthPrefixed(&in, &id) ||
      !GetLengthPrefixed(&in, &parent) || in.size() < 9) {
    return bad();
  }
  r.level = static_cast<uint16_t>(level);
  r.id.assign(id);
  r.parent_id.assign(parent);
  r.version = static_cast<int64_t>(DecodeFixed64(in.data()));
  const unsigned flags = static_cast<unsigned char>(in[8]);
  if (flags > 3) return bad();
  r.deleted = (flags & 1) != 0;
  r.active = (flags & 2) != 0;
  in.remove_prefix(9);
  if (!GetLengthPrefixed(&in, &json) || !GetVarint32(&in, &n) || n > in.size()) return bad();
  r.fields_json.assign(json);
  r.fields.resize(n);
  for (ValueSpan& s : r.fields) {
    if (!GetVarint32(&in, &s.offset) || !GetVarint32(&in, &s.length)) return bad();
    if (static_cast<uint64_t>(s.offset) + s.length > r.fields_json.size()) return bad();
  }
  if (in.size() < 8) return bad();
  r.tiebreak = DecodeFixed64(in.data());
  in.remove_prefix(8);
  if (!GetLengthPrefixed(&in, &source) || !GetVarint32(&in, &line) || !in.empty()) return bad();
  r.source.assign(source);
  r.line = line;
  return r;
}

Result<std::vector<SegmentFile>> BuildEntitiesSegment(const EntityTable& table, SegmentWriterOptions options) {
  options.ids_ascending = true;  // records() is (level, id) sorted, and so are the doc ids
  // A delta reads single records at random (a changed ad's parent, a changed
  // parent's children): small stored blocks keep each read and its LZ4
  // decode near the one record it wants, and the block cache dense.
  options.stored_block_bytes = kEntitiesStoredBlockBytes;
  SegmentWriter writer(options);
  DocBatch batch;
  IndexDoc doc;
  for (const EntityRecord& r : table.records()) {
    doc.Clear();
    doc.id = EntityDocId(r.level, r.id);
    doc.stored = EncodeEntityRecord(r);
    if (!r.parent_id.empty()) doc.terms.Add(kParentField, ParentValue(r.level, r.parent_id));
    batch.Add(doc);
    if (batch.size() >= 4096) {
      writer.Add(batch);
      batch.Clear();
    }
  }
  if (batch.size() > 0) writer.Add(batch);
  FRESHET_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, writer.Finish());
  for (SegmentFile& f : files) f.name = std::string(kEntitiesFilePrefix) + f.name;
  return files;
}

Result<std::unique_ptr<BaseEntities>> BaseEntities::Open(const SegmentReader::FileOpener& open_file,
                                                         size_t block_cache_bytes) {
  SegmentReaderOptions options;
  options.block_cache_bytes = block_cache_bytes;
  SegmentReader::FileOpener prefixed = [open_file](const std::string& name) {
    return open_file(std::string(kEntitiesFilePrefix) + name);
  };
  FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader, SegmentReader::Open(prefixed, options));
  return std::unique_ptr<BaseEntities>(new BaseEntities(std::move(reader)));
}

void BaseEntities::Fail(Status st) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.ok()) status_ = std::move(st);
}

Status BaseEntities::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void BaseEntities::ForgetRecords() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
  status_ = Status::Ok();
}

size_t BaseEntities::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

const EntityRecord* BaseEntities::Find(uint16_t level, std::string_view id) const {
  std::string key = EntityDocId(level, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
  }
  std::unique_ptr<EntityRecord> found;
  Result<std::optional<uint32_t>> doc = reader_->FindDoc(key);
  if (!doc.ok()) {
    Fail(doc.status().WithContext("base entities"));
  } else if (*doc) {
    Result<std::string> stored = reader_->Stored(**doc);
    Result<EntityRecord> r = stored.ok() ? DecodeEntityRecord(*stored) : Result<EntityRecord>(stored.status());
    if (r.ok()) found = std::make_unique<EntityRecord>(std::move(r).value());
    else Fail(r.status().WithContext("base entities"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = cache_.emplace(std::move(key), std::move(found));
  return it->second.get();  // a racing Find may have inserted first: keep one copy
}

void BaseEntities::ChildrenOf(uint16_t level, std::string_view parent,
                              std::vector<const EntityRecord*>* out) const {
  if (level == 0) return;
  Result<std::vector<uint32_t>> docs = reader_->Postings(MakeTerm(kParentField, ParentValue(level, parent)));
  if (!docs.ok()) return Fail(docs.status().WithContext("base entities"));
  // Each child's record straight from its stored value (no id lookup), and
  // kept: the fan-out asks for these very children next.
  for (uint32_t d : *docs) {
    Result<std::string> stored = reader_->Stored(d);
    Result<EntityRecord> r = stored.ok() ? DecodeEntityRecord(*stored) : Result<EntityRecord>(stored.status());
    if (!r.ok()) return Fail(r.status().WithContext("base entities"));
    if (r->level != level || r->parent_id != parent) {
      return Fail(Status::DataLoss("base entities: a child record does not match its parent term"));
    }
    std::string key = EntityDocId(level, r->id);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      it = cache_.emplace(std::move(key), std::make_unique<EntityRecord>(std::move(r).value())).first;
    }
    if (it->second) out->push_back(it->second.get());
  }
}

}  // namespace freshet
