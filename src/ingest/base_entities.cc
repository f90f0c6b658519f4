#include "ingest/base_entities.h"

#include <algorithm>
#include <cstdio>

#include "index/coding.h"
#include "index/index_doc.h"
#include "ingest/doc_assembler.h"
#include "ingest/json_text.h"

namespace freshet {
namespace {

constexpr std::string_view kParentField = "parent";

// "<level as 2+ lowercase hex digits>" (printf's "%02x"), appended.
void AppendLevelTag(std::string* out, uint16_t level) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (level < 0x100) {
    out->push_back(kHex[level >> 4]);
    out->push_back(kHex[level & 0xf]);
    return;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(level));
  out->append(buf);
}

std::string LevelTag(uint16_t level) {
  std::string tag;
  AppendLevelTag(&tag, level);
  return tag;
}

// The entity doc id "<level>\0<id>" into *out (replacing its contents):
// lookups reuse one buffer instead of allocating a key each.
void EntityDocIdInto(std::string* out, uint16_t level, std::string_view id) {
  out->clear();
  AppendLevelTag(out, level);
  out->push_back('\0');
  out->append(id);
}

std::string EntityDocId(uint16_t level, std::string_view id) {
  std::string k;
  EntityDocIdInto(&k, level, id);
  return k;
}

// The "parent" term's value: the same "<level>\0<id>" shape as an entity doc id.
std::string ParentValue(uint16_t level, std::string_view parent) { return EntityDocId(level, parent); }

}  // namespace

std::string EncodeEntityRecordV1(const EntityRecord& r) {
  std::string out;
  out.reserve(r.json().size() + r.id.size() + r.parent_id.size() + r.source.size() + 8 * r.fields.size() + 32);
  PutVarint32(&out, r.level);
  PutLengthPrefixed(&out, r.id);
  PutLengthPrefixed(&out, r.parent_id);
  PutFixed64(&out, static_cast<uint64_t>(r.version));
  out.push_back(static_cast<char>((r.deleted ? 1 : 0) | (r.active ? 2 : 0)));
  PutLengthPrefixed(&out, r.json());
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

namespace {

Result<EntityRecord> DecodeEntityRecordV1(std::string_view in) {
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

// EncodeEntity's records start with these bytes: read as the V1 encoding's
// first field (a varint level), they are 65536, which V1 never wrote
// (levels are < 2^16), so the two encodings cannot be confused.
constexpr std::string_view kProjectedMarker = "\x80\x80\x04";
constexpr unsigned kDeletedFlag = 1, kActiveFlag = 2;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

Result<EntityRecord> DecodeProjected(std::string_view in, std::string_view id, const BuildSchema& schema,
                                     const FullDocReader& full_doc, bool without_document) {
  auto bad = [] { return Status::DataLoss("entity record: truncated or malformed encoding"); };
  in.remove_prefix(kProjectedMarker.size());
  EntityRecord r;
  uint32_t level = 0, doc_plus_one = 0, n = 0;
  uint64_t version = 0;
  std::string_view parent, mask;
  if (!GetVarint32(&in, &level) || level > 0xffff || !GetLengthPrefixed(&in, &parent) ||
      !GetVarint64(&in, &version) || in.empty()) {
    return bad();
  }
  const unsigned flags = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  if (flags > 3 || !GetVarint32(&in, &doc_plus_one)) return bad();
  if (doc_plus_one != 0 && !GetLengthPrefixed(&in, &mask)) return bad();
  if (!GetVarint32(&in, &n) || n > in.size()) return bad();
  r.level = static_cast<uint16_t>(level);
  r.id.assign(id);
  r.parent_id.assign(parent);
  r.version = UnZigZag(version);
  r.deleted = (flags & kDeletedFlag) != 0;
  r.active = (flags & kActiveFlag) != 0;
  // (quoted name, value): the document's members the mask picks, then the inline ones.
  // Scratch reused across calls on this thread: records decode by the thousand.
  thread_local std::vector<std::pair<std::string_view, std::string_view>> fields, members;
  fields.clear();
  members.clear();
  std::string doc_json;
  if (!without_document && mask.find_first_not_of('\0') != std::string_view::npos) {
    FRESHET_ASSIGN_OR_RETURN(doc_json, full_doc(doc_plus_one - 1));
    std::string scratch;
    if (!SplitCanonicalObject(doc_json, &members) || members.empty() || members[0].first != "\"id\"" ||
        JsonStringValue(members[0].second, &scratch) != id) {
      return Status::DataLoss("entity record of " + std::string(id) + ": the full's document " +
                              std::to_string(doc_plus_one - 1) + " is not its");
    }
    for (size_t k = 0; k < mask.size() * 8; ++k) {
      if ((static_cast<unsigned char>(mask[k / 8]) >> (k % 8) & 1) == 0) continue;
      if (k + 1 >= members.size()) {
        return Status::DataLoss("entity record of " + std::string(id) + ": the full's document has no member " +
                                std::to_string(k + 1));
      }
      fields.push_back(members[k + 1]);
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!GetLengthPrefixed(&in, &name) || !GetLengthPrefixed(&in, &value) || value.empty()) return bad();
    fields.emplace_back(name, value);
  }
  if (!in.empty()) return bad();
  r.fields.resize(schema.fields.size());
  size_t bytes = 2;
  for (const auto& [name, value] : fields) bytes += name.size() + value.size() + 2;
  r.fields_json.reserve(bytes);
  r.fields_json.push_back('{');
  std::string unquoted;
  for (size_t k = 0; k < fields.size(); ++k) {
    const auto [name, value] = fields[k];
    if (k > 0) r.fields_json.push_back(',');
    r.fields_json.append(name);
    r.fields_json.push_back(':');
    const int f = schema.FieldIndex(JsonStringValue(name, &unquoted));
    if (f >= 0) {
      r.fields[static_cast<size_t>(f)] = {static_cast<uint32_t>(r.fields_json.size()),
                                          static_cast<uint32_t>(value.size())};
    }
    r.fields_json.append(value);
  }
  r.fields_json.push_back('}');
  return r;
}

// The full's document an EncodeEntity record reads fields from, if any.
std::optional<uint32_t> ProjectedFullDoc(std::string_view in) {
  if (!in.starts_with(kProjectedMarker)) return std::nullopt;
  in.remove_prefix(kProjectedMarker.size());
  uint32_t level = 0, doc_plus_one = 0;
  uint64_t version = 0;
  std::string_view parent, mask;
  if (!GetVarint32(&in, &level) || !GetLengthPrefixed(&in, &parent) || !GetVarint64(&in, &version) ||
      in.empty()) {
    return std::nullopt;
  }
  in.remove_prefix(1);  // flags
  if (!GetVarint32(&in, &doc_plus_one) || doc_plus_one == 0 || !GetLengthPrefixed(&in, &mask) ||
      mask.find_first_not_of('\0') == std::string_view::npos) {
    return std::nullopt;
  }
  return doc_plus_one - 1;
}

}  // namespace

void EncodeEntityTo(const EntityRecord& r, const BuildSchema& schema, const FullDocRef* full_doc, std::string* out) {
  out->clear();
  out->append(kProjectedMarker);
  PutVarint32(out, r.level);
  PutLengthPrefixed(out, r.parent_id);
  PutVarint64(out, ZigZag(r.version));
  out->push_back(static_cast<char>((r.deleted ? kDeletedFlag : 0) | (r.active ? kActiveFlag : 0)));
  PutVarint32(out, full_doc ? full_doc->doc + 1 : 0);
  const std::vector<bool>* kept = r.level < schema.kept.size() ? &schema.kept[r.level] : nullptr;
  const size_t fields = std::min(r.field_limit(), schema.fields.size());
  // Two bitsets over the catalog: r's own values (the fields its level
  // keeps and it has), and those of them the document holds (a leaf's own
  // value wins over an inherited one). A word per 64 fields, on the stack
  // for up to 256 (one entity per record of a full: no allocation per
  // entity).
  constexpr size_t kWordsOnStack = 4;
  const size_t words = (fields + 63) / 64;
  uint64_t on_stack[2 * kWordsOnStack] = {};
  std::vector<uint64_t> on_heap;
  uint64_t* own = on_stack;
  if (words > kWordsOnStack) {
    on_heap.assign(2 * words, 0);
    own = on_heap.data();
  }
  uint64_t* const in_doc = own + std::max(words, kWordsOnStack);
  auto is_set = [](const uint64_t* bits, size_t f) { return ((bits[f / 64] >> (f % 64)) & 1) != 0; };
  if (kept != nullptr) {
    for (size_t f = 0; f < fields && f < kept->size(); ++f) {
      if ((*kept)[f] && r.has_field(f)) own[f / 64] |= uint64_t{1} << (f % 64);
    }
  }
  if (full_doc) {
    // The mask, a bit per stored member, written in place after its length.
    const size_t members = full_doc->stored->size();
    const size_t mask_bytes = (members + 7) / 8;
    PutVarint64(out, mask_bytes);
    const size_t mask_at = out->size();
    out->append(mask_bytes, '\0');
    for (size_t k = 0; k < members; ++k) {
      const uint32_t f = (*full_doc->stored)[k];
      if (f < fields && is_set(own, f)) {
        (*out)[mask_at + k / 8] = static_cast<char>((*out)[mask_at + k / 8] | (1 << (k % 8)));
        in_doc[f / 64] |= uint64_t{1} << (f % 64);
      }
    }
  }
  uint32_t n = 0;
  for (size_t w = 0; w < words; ++w) n += static_cast<uint32_t>(PopCount64(own[w] & ~in_doc[w]));
  PutVarint32(out, n);
  if (n == 0) return;
  std::string name;
  for (size_t f = 0; f < fields; ++f) {
    if (!is_set(own, f) || is_set(in_doc, f)) continue;
    name.clear();
    AppendJsonString(&name, schema.fields[f]);
    PutLengthPrefixed(out, name);
    PutLengthPrefixed(out, r.field(f));
  }
}

std::string EncodeEntity(const EntityRecord& r, const BuildSchema& schema, const FullDocRef* full_doc) {
  std::string out;
  EncodeEntityTo(r, schema, full_doc, &out);
  return out;
}

Result<EntityRecord> DecodeEntity(std::string_view bytes, std::string_view id, const BuildSchema& schema,
                                  const FullDocReader& full_doc, bool without_document) {
  if (bytes.starts_with(kProjectedMarker)) return DecodeProjected(bytes, id, schema, full_doc, without_document);
  FRESHET_ASSIGN_OR_RETURN(EntityRecord r, DecodeEntityRecordV1(bytes));
  if (r.id != id) return Status::DataLoss("entity record of " + std::string(id) + " holds " + r.id);
  return r;
}

namespace {

SegmentWriterOptions EntitiesWriterOptions(SegmentWriterOptions options) {
  options.ids_ascending = true;  // (level, id) order, and so are the doc ids
  // A delta reads single records at random (a changed ad's parent, a changed
  // parent's children): small stored blocks keep each read and its LZ4
  // decode near the one record it wants, and the block cache dense.
  options.stored_block_bytes = kEntitiesStoredBlockBytes;
  return options;
}

}  // namespace

EntitiesSegmentBuilder::EntitiesSegmentBuilder(const SchemaOptions& schema, SegmentWriterOptions options)
    : schema_(CompileBuildSchema(schema)), writer_(EntitiesWriterOptions(options)) {}

EntitiesSegmentBuilder::~EntitiesSegmentBuilder() = default;

void EntitiesSegmentBuilder::Add(const EntityRecord& r, const FullDocRef* full_doc) {
  doc_.Clear();
  EntityDocIdInto(&doc_.id, r.level, r.id);  // reuses doc_.id: a new 16+ byte id was an allocation per entity
  EncodeEntityTo(r, schema_, full_doc, &doc_.stored);
  if (!r.parent_id.empty()) doc_.terms.Add(kParentField, ParentValue(r.level, r.parent_id));
  batch_.Add(doc_);
  if (batch_.size() >= 4096) {
    writer_.Add(batch_);
    batch_.Clear();
  }
}

Result<std::vector<SegmentFile>> EntitiesSegmentBuilder::Finish() {
  if (batch_.size() > 0) writer_.Add(batch_);
  batch_.Clear();
  FRESHET_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, writer_.Finish());
  for (SegmentFile& f : files) f.name = std::string(kEntitiesFilePrefix) + f.name;
  return files;
}

Result<std::vector<SegmentFile>> BuildEntitiesSegment(const SchemaOptions& schema, const EntityTable& table,
                                                      SegmentWriterOptions options) {
  EntitiesSegmentBuilder builder(schema, options);
  // Records sort by (level, id), and the leaves are the last level: the
  // ancestors first, then the leaf run. The full's documents are its
  // servable leaves in id order: a leaf's doc number is its rank among them.
  const EntityRecord* const leaf_begin = table.Level(builder.leaf()).first;  // (no binding: lambdas use it)
  const EntityRecord* next = table.records().data();
  const EntityRecord* const records_end = next + table.records().size();
  for (; next != leaf_begin && next != records_end; ++next) builder.Add(*next, nullptr);
  uint32_t doc_number = 0;
  ForEachFullDocShape(schema, table, [&](size_t leaf, const std::vector<uint32_t>& stored) {
    for (; next != leaf_begin + leaf; ++next) builder.Add(*next, nullptr);  // not servable
    const FullDocRef ref{doc_number++, &stored};
    builder.Add(*next++, &ref);
  });
  for (; next != records_end; ++next) builder.Add(*next, nullptr);
  return builder.Finish();
}

BaseEntities::BaseEntities(std::unique_ptr<SegmentReader> reader, SegmentReader::FileOpener open_file,
                           BuildSchema schema, size_t block_cache_bytes)
    : reader_(std::move(reader)),
      open_file_(std::move(open_file)),
      schema_(std::move(schema)),
      block_cache_bytes_(block_cache_bytes) {}

Result<std::unique_ptr<BaseEntities>> BaseEntities::Open(const SegmentReader::FileOpener& open_file,
                                                         const SchemaOptions& schema, size_t block_cache_bytes) {
  SegmentReaderOptions options;
  options.block_cache_bytes = block_cache_bytes;
  SegmentReader::FileOpener prefixed = [open_file](const std::string& name) {
    return open_file(std::string(kEntitiesFilePrefix) + name);
  };
  FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader, SegmentReader::Open(prefixed, options));
  return std::unique_ptr<BaseEntities>(
      new BaseEntities(std::move(reader), open_file, CompileBuildSchema(schema), block_cache_bytes));
}

Result<const SegmentReader*> BaseEntities::Index() const {
  std::call_once(index_once_, [this] {
    // As large as the entities' cache: on the 1M-ad benchmark a quarter of
    // it (16 MiB) cost 150-250 ms per delta in block re-reads.
    SegmentReaderOptions options;
    options.block_cache_bytes = block_cache_bytes_;
    index_ = SegmentReader::Open(open_file_, options);
  });
  if (!index_.ok()) return index_.status().WithContext("the full's index");
  return index_->get();
}

Result<std::string> BaseEntities::FullStored(uint32_t doc) const {
  FRESHET_ASSIGN_OR_RETURN(const SegmentReader* index, Index());
  return index->Stored(doc);
}

Result<std::vector<std::string>> BaseEntities::FullStoredMany(const std::vector<uint32_t>& docs) const {
  FRESHET_ASSIGN_OR_RETURN(const SegmentReader* index, Index());
  return index->StoredMany(docs);
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
  versions_.clear();
  status_ = Status::Ok();
}

size_t BaseEntities::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

std::unique_ptr<EntityRecord> BaseEntities::Load(const std::string& key, std::string_view id,
                                                bool without_document) const {
  Result<std::optional<uint32_t>> doc = reader_->FindDoc(key);
  if (!doc.ok()) {
    Fail(doc.status().WithContext("base entities"));
    return nullptr;
  }
  if (!*doc) return nullptr;
  Result<std::string> stored = reader_->Stored(**doc);
  Result<EntityRecord> r =
      stored.ok() ? DecodeEntity(*stored, id, schema_, [this](uint32_t d) { return FullStored(d); }, without_document)
                  : Result<EntityRecord>(stored.status());
  if (!r.ok()) {
    Fail(r.status().WithContext("base entities"));
    return nullptr;
  }
  return std::make_unique<EntityRecord>(std::move(r).value());
}

const EntityRecord* BaseEntities::Find(uint16_t level, std::string_view id) const {
  thread_local std::string key;  // the fan-out looks up every record a few times: no allocation per hit
  EntityDocIdInto(&key, level, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
  }
  std::unique_ptr<EntityRecord> found = Load(key, id, /*without_document=*/false);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = cache_.emplace(key, std::move(found));
  return it->second.get();  // a racing Find may have inserted first: keep one copy
}

const EntityRecord* BaseEntities::FindVersion(uint16_t level, std::string_view id) const {
  thread_local std::string key;
  EntityDocIdInto(&key, level, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
    if (auto it = versions_.find(key); it != versions_.end()) return it->second.get();
  }
  // No document: the fields it holds stay out (FindVersion's contract).
  std::unique_ptr<EntityRecord> found = Load(key, id, /*without_document=*/true);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
  auto [it, inserted] = versions_.emplace(key, std::move(found));
  return it->second.get();
}

void BaseEntities::ChildrenOf(uint16_t level, std::string_view parent,
                              std::vector<const EntityRecord*>* out) const {
  if (level == 0) return;
  // Each child's record straight from its stored value, and kept: the
  // fan-out asks for these very children next. Children are id
  // neighbours, so their ids, records and documents are read a block at a
  // time (DocIds, StoredMany), not one lookup each.
  std::vector<uint32_t> docs;
  std::vector<std::string> keys;
  if (!ChildKeys(level, parent, &docs, &keys)) return;
  std::vector<uint32_t> missing, wanted;  // children not decoded yet: indexes into docs, their doc numbers
  NotDecoded(docs, keys, /*versions_count=*/false, &missing, &wanted);
  Result<std::vector<std::string>> stored = reader_->StoredMany(wanted);
  if (!stored.ok()) return Fail(stored.status().WithContext("base entities"));
  // Their documents in the full, in one pass too (ascending, as the ids).
  std::vector<uint32_t> full_docs;
  for (const std::string& bytes : *stored) {
    if (std::optional<uint32_t> d = ProjectedFullDoc(bytes)) full_docs.push_back(*d);
  }
  std::sort(full_docs.begin(), full_docs.end());
  full_docs.erase(std::unique(full_docs.begin(), full_docs.end()), full_docs.end());
  std::vector<std::string> full_json;
  if (!full_docs.empty()) {
    Result<std::vector<std::string>> got = FullStoredMany(full_docs);
    if (!got.ok()) return Fail(got.status().WithContext("base entities"));
    full_json = std::move(got).value();
  }
  FullDocReader read = [&](uint32_t doc) -> Result<std::string> {
    auto it = std::lower_bound(full_docs.begin(), full_docs.end(), doc);
    if (it != full_docs.end() && *it == doc) return full_json[static_cast<size_t>(it - full_docs.begin())];
    return FullStored(doc);
  };
  const size_t tag = LevelTag(level).size() + 1;  // "<level>\0" before the id
  for (size_t k = 0; k < missing.size(); ++k) {
    const std::string& doc_key = keys[missing[k]];
    if (doc_key.size() <= tag) return Fail(Status::DataLoss("base entities: a malformed entity id"));
    Result<EntityRecord> r = DecodeEntity((*stored)[k], std::string_view(doc_key).substr(tag), schema_, read);
    if (!r.ok()) return Fail(r.status().WithContext("base entities"));
    if (r->level != level || r->parent_id != parent) {
      return Fail(Status::DataLoss("base entities: a child record does not match its parent term"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    cache_.try_emplace(doc_key, std::make_unique<EntityRecord>(std::move(r).value()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& key : keys) {  // "<level>\0<id>": the cache's key
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second) out->push_back(it->second.get());
  }
}

bool BaseEntities::ChildKeys(uint16_t level, std::string_view parent, std::vector<uint32_t>* docs,
                             std::vector<std::string>* keys) const {
  Result<std::vector<uint32_t>> postings = reader_->Postings(MakeTerm(kParentField, ParentValue(level, parent)));
  if (!postings.ok()) {
    Fail(postings.status().WithContext("base entities"));
    return false;
  }
  Result<std::vector<std::string>> ids = reader_->DocIds(*postings);
  if (!ids.ok()) {
    Fail(ids.status().WithContext("base entities"));
    return false;
  }
  *docs = std::move(postings).value();
  *keys = std::move(ids).value();
  return true;
}

void BaseEntities::NotDecoded(const std::vector<uint32_t>& docs, const std::vector<std::string>& keys,
                              bool versions_count, std::vector<uint32_t>* missing, std::vector<uint32_t>* wanted) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < docs.size(); ++i) {
    if (cache_.contains(keys[i]) || (versions_count && versions_.contains(keys[i]))) continue;
    missing->push_back(static_cast<uint32_t>(i));
    wanted->push_back(docs[i]);
  }
}

void BaseEntities::ChildVersionsOf(uint16_t level, std::string_view parent,
                                   std::vector<const EntityRecord*>* out) const {
  if (level == 0) return;
  std::vector<uint32_t> docs;
  std::vector<std::string> keys;
  if (!ChildKeys(level, parent, &docs, &keys)) return;
  std::vector<uint32_t> missing, wanted;  // children in neither map: indexes into docs, their doc numbers
  NotDecoded(docs, keys, /*versions_count=*/true, &missing, &wanted);
  Result<std::vector<std::string>> stored = reader_->StoredMany(wanted);
  if (!stored.ok()) return Fail(stored.status().WithContext("base entities"));
  const FullDocReader no_document = [](uint32_t) -> Result<std::string> {
    return Status::Internal("base entities: a version-only decode read a document");
  };
  const size_t tag = LevelTag(level).size() + 1;
  for (size_t k = 0; k < missing.size(); ++k) {
    const std::string& doc_key = keys[missing[k]];
    if (doc_key.size() <= tag) return Fail(Status::DataLoss("base entities: a malformed entity id"));
    Result<EntityRecord> r = DecodeEntity((*stored)[k], std::string_view(doc_key).substr(tag), schema_, no_document,
                                          /*without_document=*/true);
    if (!r.ok()) return Fail(r.status().WithContext("base entities"));
    if (r->level != level || r->parent_id != parent) {
      return Fail(Status::DataLoss("base entities: a child record does not match its parent term"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!cache_.contains(doc_key)) versions_.try_emplace(doc_key, std::make_unique<EntityRecord>(std::move(r).value()));
  }
  // As FindVersion answers: the whole record when decoded, else the version.
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& key : keys) {
    if (auto it = cache_.find(key); it != cache_.end()) {
      if (it->second) out->push_back(it->second.get());
    } else if (auto v = versions_.find(key); v != versions_.end() && v->second) {
      out->push_back(v->second.get());
    }
  }
}

}  // namespace freshet
