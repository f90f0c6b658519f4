// The base's entities, kept in the full generation (SPEC §4: "the base's
// data for fan-out is read from the committed full, not held in memory").
//
// A delta's fan-out needs two things from the base: the children of a
// changed parent, and the base version of every record a document is
// assembled from. The full therefore carries a second segment, its files
// named "entities.<file>", with one document per entity of the snapshot
// (every level, deleted ones too):
//   id      "<level, 2 hex digits>" '\0' <entity id>   (level, then id order)
//   stored  the EntityRecord, encoded (EncodeEntity)
//   terms   "parent" '\0' "<level>" '\0' <parent id>   (its parent, if any)
// The segment format's ranged reads, block cache and checksums serve it
// as they serve the index: a lookup reads a block or two, never the whole.
//
// The encoding keeps what the build reads of a record, not its whole
// line: the fields the schema keeps for its level (BuildSchema::kept), by
// name. A leaf whose document the full holds does not repeat the values
// that document stores: it names its doc number, and those values are read
// back from the full's "stored" file (the index's own copy). A full is
// thus about as large as its index, not twice (issue 11: output no larger
// than Lucene's). A decoded record's fields_json is the canonical JSON of
// those kept fields only; every span the build reads is as the parsed
// record's.
//
// BaseEntities is the read side: Find and ChildrenOf as EntityTable offers
// them (doc_assembler's views), answered from such a segment (and the
// full's stored documents). It keeps the records it decoded until it is
// destroyed (one per batch), so the pointers it returns stay valid for the
// batch. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "freshet/status.h"
#include "index/segment_reader.h"
#include "index/segment_writer.h"
#include "ingest/build_schema.h"
#include "ingest/entity_record.h"
#include "ingest/entity_table.h"

namespace freshet {

inline constexpr std::string_view kEntitiesFilePrefix = "entities.";
// The entities segment's stored block size (whatever the index's is).
inline constexpr size_t kEntitiesStoredBlockBytes = 4 * 1024;

// A leaf's document in the full: its number, and the catalog fields its
// stored JSON holds after "id", in order (ForEachFullDocShape).
struct FullDocRef {
  uint32_t doc = 0;
  const std::vector<uint32_t>* stored = nullptr;
};
// The encoding of `r` in an entities segment: the fields its level keeps,
// except, when `full_doc` names r's document in the full, those the
// document stores as r's own (a bit each). Not encoded: r.id (the
// entity's doc id holds it), r.tiebreak, r.source and r.line (the base's
// records are never deduplicated again, and a delta compares a base record
// with the window's by version alone: doc_assembler.h).
std::string EncodeEntity(const EntityRecord& r, const BuildSchema& schema, const FullDocRef* full_doc);
// EncodeEntity into *out (cleared first), reusing its capacity.
void EncodeEntityTo(const EntityRecord& r, const BuildSchema& schema, const FullDocRef* full_doc, std::string* out);
// The stored JSON of the full's document `doc`.
using FullDocReader = std::function<Result<std::string>(uint32_t doc)>;
// Decodes EncodeEntity's bytes for the entity `id` (fields from `full_doc`
// when it names a document), and the lossless encoding of fulls written
// before (EncodeEntityRecordV1). kDataLoss when `bytes` is neither, or the
// document it names is not `id`'s. The record's fields_json holds its
// encoded fields only (not in key order); its spans are the parsed
// record's, for every field its level keeps.
// `without_document`: skip the fields the full's document holds (the
// record's fields are then incomplete; version and flags are exact).
Result<EntityRecord> DecodeEntity(std::string_view bytes, std::string_view id, const BuildSchema& schema,
                                  const FullDocReader& full_doc, bool without_document = false);

// The lossless form fulls carried before the encoding above (every field,
// spans included): still decoded; written by tests only.
std::string EncodeEntityRecordV1(const EntityRecord& r);

// An entities segment made a record at a time, in (level, id) order: the
// ancestors, then each leaf with its document in the full (full_doc), or
// none when the full does not index it.
class EntitiesSegmentBuilder {
 public:
  EntitiesSegmentBuilder(const SchemaOptions& schema, SegmentWriterOptions options);
  ~EntitiesSegmentBuilder();
  void Add(const EntityRecord& r, const FullDocRef* full_doc);
  // Its files, named "entities.<file>". Call once.
  Result<std::vector<SegmentFile>> Finish();
  uint16_t leaf() const { return schema_.leaf; }

 private:
  const BuildSchema schema_;
  SegmentWriter writer_;
  DocBatch batch_;
  IndexDoc doc_;
};

// The entities segment of `table`, the snapshot whose full index
// StreamFullDocs(schema, table) makes: its files, named "entities.<file>".
Result<std::vector<SegmentFile>> BuildEntitiesSegment(const SchemaOptions& schema, const EntityTable& table,
                                                      SegmentWriterOptions options);

class BaseEntities {
 public:
  // `open_file` opens the full's files by name ("entities.<file>", and
  // "stored" etc. of its index, opened at the first record that needs
  // them). `schema`: the one the full was built with.
  static Result<std::unique_ptr<BaseEntities>> Open(const SegmentReader::FileOpener& open_file,
                                                    const SchemaOptions& schema, size_t block_cache_bytes);

  // As EntityTable. A read error is remembered (status()) and answered as
  // "not in the base"; the caller must check status() before using what it
  // built.
  const EntityRecord* Find(uint16_t level, std::string_view id) const;
  // Find without the fields a leaf reads from the full's document: level,
  // id, parent, version and flags are the record's, its fields may be
  // incomplete. For comparing versions: it spares a random read of a
  // stored block of the full per updated ad.
  const EntityRecord* FindVersion(uint16_t level, std::string_view id) const;
  void ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const;
  // ChildrenOf as FindVersion answers: each child as FindVersion would
  // return it now, its fields possibly incomplete. For a parent whose
  // documents all become tombstones (a paused campaign's ads): it spares
  // reading each child's document from the full.
  void ChildVersionsOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const;

  Status status() const;
  // Drops the decoded records and the remembered error (the segment's
  // block cache stays): between batches, when no pointer is in use.
  void ForgetRecords();
  size_t entities() const { return reader_->num_docs(); }
  // Records decoded so far (this batch's working set).
  size_t cached() const;

 private:
  BaseEntities(std::unique_ptr<SegmentReader> reader, SegmentReader::FileOpener open_file, BuildSchema schema,
               size_t block_cache_bytes);
  void Fail(Status st) const;
  // The record of entity doc id `key` (entity `id`) read from the segment,
  // or null when absent or unreadable (then remembered by Fail).
  std::unique_ptr<EntityRecord> Load(const std::string& key, std::string_view id, bool without_document) const;
  // The full's index, opened at first use.
  Result<const SegmentReader*> Index() const;
  Result<std::string> FullStored(uint32_t doc) const;
  Result<std::vector<std::string>> FullStoredMany(const std::vector<uint32_t>& docs) const;  // ascending
  // The children of (level, parent) as their entity doc ids and numbers in
  // the entities segment, ascending; false on a read error (remembered).
  bool ChildKeys(uint16_t level, std::string_view parent, std::vector<uint32_t>* docs,
                 std::vector<std::string>* keys) const;
  // Of ChildKeys' children, those not decoded yet (not in cache_, nor in
  // versions_ when `versions_count`): their indexes and doc numbers.
  void NotDecoded(const std::vector<uint32_t>& docs, const std::vector<std::string>& keys, bool versions_count,
                  std::vector<uint32_t>* missing, std::vector<uint32_t>* wanted) const;

  std::unique_ptr<SegmentReader> reader_;
  const SegmentReader::FileOpener open_file_;
  const BuildSchema schema_;
  const size_t block_cache_bytes_;
  mutable std::once_flag index_once_;
  mutable Result<std::unique_ptr<SegmentReader>> index_ = Status::Internal("not opened");
  mutable std::mutex mu_;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>()(k); }
  };
  // Entity doc id ("<level>\0<id>") -> record, or null when the base has
  // none. Never erased within a batch.
  mutable std::unordered_map<std::string, std::unique_ptr<EntityRecord>, KeyHash, std::equal_to<>> cache_;
  // FindVersion's records not in cache_ (never handed out by Find).
  mutable std::unordered_map<std::string, std::unique_ptr<EntityRecord>, KeyHash, std::equal_to<>> versions_;
  mutable Status status_;
};

}  // namespace freshet
