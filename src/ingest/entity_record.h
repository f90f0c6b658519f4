// The build module's unit of data: one parsed input record (EntityRecord)
// or one rejected record (QuarantineEntry).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace freshet {

// Where one top-level field's canonical JSON value sits in
// EntityRecord::fields_json. length == 0 means absent (or JSON null: a null
// field is treated exactly like a missing one everywhere in the build).
struct ValueSpan {
  uint32_t offset = 0;
  uint32_t length = 0;
  bool present() const { return length != 0; }
  friend bool operator==(const ValueSpan&, const ValueSpan&) = default;
};

// One entity version, as parsed from one NDJSON line.
//
// Field representation: the whole record is kept once, as canonical JSON
// (`fields_json`: object keys sorted bytewise at every depth, no whitespace,
// numbers as rapidjson prints them, strings escaped minimally). The fields
// the schema can use (BuildSchema::fields, the "catalog") are not copied
// again: `fields[i]` is the span of catalog field i's value inside
// fields_json. That costs one 8-byte slot per catalog field and no
// per-field allocation, and lookups during assembly are O(1) by index.
// Only the fields a record of this level can contribute to a document are
// filled (see BuildSchema::kept); the others are left absent.
struct EntityRecord {
  uint16_t level = 0;       // index into BuildSchema::levels (0 = root)
  std::string id;           // non-empty
  std::string parent_id;    // "" at the root level and for parentless tombstones
  int64_t version = 0;      // integer as written, or RFC 3339 as Unix microseconds
  bool deleted = false;     // tombstone flag
  bool active = true;       // status field in active_values (true when no status field)
  std::string fields_json;  // the record's JSON object, canonical
  std::vector<ValueSpan> fields;  // parallel to BuildSchema::fields
  uint64_t tiebreak = 0;    // XXH3-64 of the raw line (CR/LF excluded)
  std::string source;       // object key
  uint32_t line = 0;        // 1-based physical line in the decoded object

  // Canonical JSON text of catalog field `index`; "" when absent.
  std::string_view field(size_t index) const {
    if (index >= fields.size() || !fields[index].present()) return {};
    return std::string_view(fields_json).substr(fields[index].offset, fields[index].length);
  }
};

// A record (or whole object) that could not be used. Written to the
// quarantine object next to the generation; never dropped silently.
struct QuarantineEntry {
  std::string source;   // object key
  uint32_t line = 0;    // 1-based line; 0 = the whole object (corrupt)
  std::string reason;   // starts with one of the kReason* strings below
  std::string excerpt;  // first 200 bytes of the line, invalid UTF-8 escaped as \xNN
  friend bool operator==(const QuarantineEntry&, const QuarantineEntry&) = default;
};

// Stable reason prefixes (tests and operators match on them). A reason is
// either exactly the prefix or the prefix, ": " and a detail, e.g.
// "invalid JSON: Missing a colon after a name of object member. (column 12)"
// or "field too long: description (70000 bytes > 65536)".
inline constexpr std::string_view kReasonInvalidJson = "invalid JSON";
inline constexpr std::string_view kReasonNotObject = "not a JSON object";
inline constexpr std::string_view kReasonMissingId = "missing id";
inline constexpr std::string_view kReasonBadId = "id is not a non-empty string";
inline constexpr std::string_view kReasonMissingVersion = "missing version";
inline constexpr std::string_view kReasonInvalidVersion = "invalid version";
inline constexpr std::string_view kReasonUnknownType = "unknown type";
inline constexpr std::string_view kReasonMissingParent = "missing parent";
inline constexpr std::string_view kReasonInvalidUtf8 = "invalid UTF-8";
inline constexpr std::string_view kReasonLineTooLong = "line too long";
inline constexpr std::string_view kReasonFieldTooLong = "field too long";
inline constexpr std::string_view kReasonBadDeleted = "wrong type for deleted";
inline constexpr std::string_view kReasonTextNotString = "text field not a string";
inline constexpr std::string_view kReasonBadKeyword = "keyword field not a string, number or array of those";
inline constexpr std::string_view kReasonCorruptObject = "corrupt object";

// The stable prefix of `reason` (everything before the first ": ").
inline std::string_view ReasonKind(std::string_view reason) {
  const size_t colon = reason.find(": ");
  return colon == std::string_view::npos ? reason : reason.substr(0, colon);
}

}  // namespace freshet
