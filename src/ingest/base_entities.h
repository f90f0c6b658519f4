// The base's entities, kept in the full generation (SPEC §4: "the base's
// data for fan-out is read from the committed full, not held in memory").
//
// A delta's fan-out needs two things from the base: the children of a
// changed parent, and the base version of every record a document is
// assembled from. The full therefore carries a second segment, its files
// named "entities.<file>", with one document per entity of the snapshot
// (every level, deleted ones too):
//   id      "<level, 2 hex digits>" '\0' <entity id>   (level, then id order)
//   stored  the EntityRecord, encoded (EncodeEntityRecord)
//   terms   "parent" '\0' "<level>" '\0' <parent id>   (its parent, if any)
// The segment format's ranged reads, block cache and checksums serve it
// as they serve the index: a lookup reads a block or two, never the whole.
//
// BaseEntities is the read side: Find and ChildrenOf as EntityTable offers
// them (doc_assembler's views), answered from such a segment. It keeps the
// records it decoded until it is destroyed (one per batch), so the
// pointers it returns stay valid for the batch. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "freshet/status.h"
#include "index/segment_reader.h"
#include "index/segment_writer.h"
#include "ingest/entity_record.h"
#include "ingest/entity_table.h"

namespace freshet {

inline constexpr std::string_view kEntitiesFilePrefix = "entities.";
// The entities segment's stored block size (whatever the index's is).
inline constexpr size_t kEntitiesStoredBlockBytes = 4 * 1024;

// Lossless binary form of a record (every field, the spans included).
std::string EncodeEntityRecord(const EntityRecord& r);
// kDataLoss when `bytes` is not an encoding.
Result<EntityRecord> DecodeEntityRecord(std::string_view bytes);

// The entities segment of `table`: its files, named "entities.<file>".
Result<std::vector<SegmentFile>> BuildEntitiesSegment(const EntityTable& table, SegmentWriterOptions options);

class BaseEntities {
 public:
  // `open_file` opens "entities.<file>" of the full.
  static Result<std::unique_ptr<BaseEntities>> Open(const SegmentReader::FileOpener& open_file,
                                                    size_t block_cache_bytes);

  // As EntityTable. A read error is remembered (status()) and answered as
  // "not in the base"; the caller must check status() before using what it
  // built.
  const EntityRecord* Find(uint16_t level, std::string_view id) const;
  void ChildrenOf(uint16_t level, std::string_view parent, std::vector<const EntityRecord*>* out) const;

  Status status() const;
  // Drops the decoded records and the remembered error (the segment's
  // block cache stays): between batches, when no pointer is in use.
  void ForgetRecords();
  size_t entities() const { return reader_->num_docs(); }
  // Records decoded so far (this batch's working set).
  size_t cached() const;

 private:
  explicit BaseEntities(std::unique_ptr<SegmentReader> reader) : reader_(std::move(reader)) {}
  void Fail(Status st) const;

  std::unique_ptr<SegmentReader> reader_;
  mutable std::mutex mu_;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>()(k); }
  };
  // Entity doc id ("<level>\0<id>") -> record, or null when the base has
  // none. Never erased within a batch.
  mutable std::unordered_map<std::string, std::unique_ptr<EntityRecord>, KeyHash, std::equal_to<>> cache_;
  mutable Status status_;
};

}  // namespace freshet
