// One batch's objects -> records and quarantine: the Builder's decode and
// parse step, plus the quarantine object's bytes and the bad-ratio gate.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/entity_record.h"
#include "ingest/record_arena.h"
#include "ingest/object_decoder.h"
#include "ingest/record_parser.h"
#include "config/options.h"
#include "freshet/status.h"
#include "storage/object_store.h"

namespace freshet {

struct DecodedInput {
  std::vector<EntityRecord> records;  // good records, in object-key then line order
  // What `records` are packed into, when they were parsed into an arena
  // (FetchParse::pack_records); else null. Whoever keeps a record keeps it.
  std::unique_ptr<RecordArena> arena;
  std::vector<QuarantineEntry> bad;   // bad records and corrupt objects
  uint64_t objects = 0;          // objects decoded (ignored ones excluded)
  uint64_t bytes = 0;            // their stored (possibly compressed) bytes
  uint64_t records_total = 0;    // good + bad; a corrupt object counts as one
  uint64_t ignored_objects = 0;  // skipped by IsIgnoredObject
  uint64_t decoded_bytes = 0;    // NDJSON bytes after decompression
  uint64_t corrupt_objects = 0;  // objects quarantined whole
  uint64_t corrupt_bytes = 0;    // their stored bytes

  // Adds `other`'s counts (every field but records and bad) to these.
  void AddCounts(const DecodedInput& other) {
    objects += other.objects;
    bytes += other.bytes;
    records_total += other.records_total;
    ignored_objects += other.ignored_objects;
    decoded_bytes += other.decoded_bytes;
    corrupt_objects += other.corrupt_objects;
    corrupt_bytes += other.corrupt_bytes;
  }
};

// Decodes and parses `objects` (info + fetched body) in ascending key order,
// skipping ignored objects. A corrupt object (DecodeObject's kDataLoss)
// becomes one QuarantineEntry with line 0, reason "corrupt object: <msg>"
// and an excerpt of its first bytes; none of its records are used.
// Never fails: bad input is data, not an error.
DecodedInput DecodeAndParse(const SchemaOptions& schema,
                            const std::vector<std::pair<ObjectInfo, std::string>>& objects,
                            const DecodeOptions& decode = {});

// Same, with a caller-owned parser (one per thread, reused across batches)
// appending into *out. Objects are processed in the order given.
// REQUIRES: out != nullptr.
void DecodeAndParseObject(RecordParser* parser, const ObjectInfo& info, std::string_view body,
                          const DecodeOptions& decode, DecodedInput* out);

// Parses `text`, whole lines of one plain NDJSON object read in ranges
// (actors/fetch_parse.h): the lines one range holds, or a line joined
// across two. Lines are numbered from 1 (RecordParser::ParsePiece), and
// *lines is set to the physical lines of `text`: see RenumberLines. The
// object is counted (objects, bytes, decoded bytes: info.size) with its
// `first` part; its BOM is the caller's to strip.
// REQUIRES: out != nullptr, lines != nullptr.
void ParseObjectPart(RecordParser* parser, const ObjectInfo& info, std::string_view text, bool first,
                     DecodedInput* out, uint64_t* lines);

// Adds `lines` to the line numbers of in->records [records_from,
// records_to) and of in->bad [bad_from, bad_to) (not to the line-0 entries
// of whole objects): a later piece's lines, once the physical lines of the
// pieces before it are known.
void RenumberLines(DecodedInput* in, size_t records_from, size_t records_to, size_t bad_from, size_t bad_to,
                   uint64_t lines);

// Records the corrupt objects would have held, estimated from the records
// per stored byte of the decodable objects of the same input (at least one
// per corrupt object). A corrupt object is one quarantine entry but may
// have held most of the input: the bad-record ratio weighs it by this.
uint64_t EstimatedCorruptRecords(const DecodedInput& in);

// The bad-record ratio of `in` with each corrupt object weighed by
// EstimatedCorruptRecords; kFailedPrecondition above `max_ratio`, naming
// the counts (and the estimate, when there are corrupt objects).
Status CheckBadRatio(const DecodedInput& in, double max_ratio);

// The quarantine object: one JSON object per line,
// {"source":...,"line":...,"reason":...,"excerpt":...}, sorted by source,
// line, reason (then excerpt), so the same bad input gives the same bytes.
std::string QuarantineNdjson(const std::vector<QuarantineEntry>& bad);

// kFailedPrecondition naming the numbers when bad / total > max_ratio
// (nothing is bad when total is 0).
Status CheckBadRatio(uint64_t bad, uint64_t total, double max_ratio);

}  // namespace freshet
