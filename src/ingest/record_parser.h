// NDJSON records -> EntityRecords, or QuarantineEntries for bad ones.
//
// Each non-blank line is one JSON object. Lines end in LF or CRLF; blank
// (whitespace-only) lines are skipped without counting as records; the last
// line needs no newline; a UTF-8 byte-order mark at the start of an object
// is skipped. Line numbers are physical (blank lines count), 1-based.
//
// A line is checked in this order and the first failure is its reason
// (prefixes in entity_record.h):
//   1. longer than schema.max_record_bytes          "line too long"
//   2. not well-formed UTF-8 (IsValidUtf8)           "invalid UTF-8"
//   3. a NUL byte, or rapidjson rejects it           "invalid JSON: <error> (column N)"
//                  or nests deeper than 128 levels
//   4. not an object                                 "not a JSON object"
//   5. a top-level field value longer than schema.max_field_bytes
//      (strings: decoded bytes; others: canonical JSON bytes)
//                                                    "field too long: <name> (N bytes > max)"
//   6. a \u escape decodes to a lone surrogate       "invalid UTF-8: ..."
//   7. id absent or null                             "missing id"
//      id not a non-empty string                     "id is not a non-empty string"
//   8. version absent or null                        "missing version"
//      version not an int64 / RFC 3339 string        "invalid version: ..."
//   9. type absent, not a string or not a level name "unknown type: ..."
//  10. deleted present, not null and not a bool      "wrong type for deleted: ..."
//  11. non-root, not deleted, parent field absent /
//      not a non-empty string                        "missing parent: ..."
//  12. a text field (that this level contributes)
//      present, not null and not a string            "text field not a string: <name>"
//  13. a keyword field present, not null and not a
//      string, number or array of strings/numbers   "keyword field not a string, ...: <name>"
// The limit in 1 is on the line as read. fields_json (the canonical form) can
// be longer, because numbers are written out in full (-3e9 becomes
// -3000000000.0), so it is never re-checked against it.
// JSON null counts as absent throughout. A key repeated in one object: the
// first occurrence is the one read; fields_json keeps every occurrence, in
// input order among equal keys. A deleted record needs no parent:
// minimal tombstones ({"id","type","version","deleted":true}) are normal.
// Status: a level's status_field must be a string in active_values for
// `active`; absent or any other value is inactive. No status field: active.
// Versions: JSON integers as written; RFC 3339 strings as Unix microseconds.
// Mixing both in one feed compares those numbers as they are.
//
// Thread-compatible: one RecordParser per thread (it reuses its parse
// buffers across lines, which is what makes it fast).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ingest/build_schema.h"
#include "ingest/entity_record.h"
#include "ingest/record_arena.h"
#include "config/options.h"

namespace freshet {

// Bytes of the raw line kept in QuarantineEntry::excerpt.
inline constexpr size_t kExcerptBytes = 200;
// Deeper JSON nesting is rejected as invalid JSON (bounded recursion).
inline constexpr int kMaxJsonDepth = 128;

class RecordParser {
 public:
  explicit RecordParser(const SchemaOptions& schema);
  ~RecordParser();
  RecordParser(RecordParser&&) noexcept;
  RecordParser& operator=(RecordParser&&) noexcept;

  const BuildSchema& schema() const;

  // Parses one line (without its terminator). Returns true and overwrites
  // *record, or returns false and overwrites *bad. Either way source/line
  // are set from the arguments.
  // REQUIRES: record != nullptr, bad != nullptr.
  bool ParseLine(std::string_view source, uint32_t line_no, std::string_view line, EntityRecord* record,
                 QuarantineEntry* bad);

  // Parses every non-blank line of one decoded object, appending to
  // *records and *bad. Returns the number of non-blank lines (records seen,
  // good or bad).
  // REQUIRES: records != nullptr, bad != nullptr.
  uint64_t ParseObject(std::string_view source, std::string_view body, std::vector<EntityRecord>* records,
                       std::vector<QuarantineEntry>* bad);

  // ParseObject over a piece of an object's decoded text that starts at a
  // line's start (batch_input.h ParseObjectPart): its lines are numbered from 1
  // as if it were the whole object, a BOM is stripped only when
  // `object_start`, and *lines is set to the physical lines it holds (blank
  // ones too), with which the caller renumbers the lines of the pieces
  // after it.
  // REQUIRES: records, bad and lines != nullptr.
  uint64_t ParsePiece(std::string_view source, std::string_view text, bool object_start,
                      std::vector<EntityRecord>* records, std::vector<QuarantineEntry>* bad, uint64_t* lines);

  // From now on the records parsed are packed into *arena (EntityRecord::
  // Pack: their kept fields' values and spans only; json() is no longer a
  // JSON object), which must outlive them and every record moved from
  // them; nullptr: each record owns its text again. A schema of more than
  // 64 fields is never packed.
  void SetArena(RecordArena* arena);

  // Tests: from now on every line goes through rapidjson, as the lines the
  // fast path does not take do (record_parser.cc: FastParse), so that the
  // two paths can be compared.
  void UseGeneralPathOnly();
  // Lines the fast path took so far (tests).
  uint64_t fast_path_lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet
