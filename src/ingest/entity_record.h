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
// (`json()`: object keys sorted bytewise at every depth, no whitespace,
// numbers as rapidjson prints them, strings escaped minimally). The fields
// the schema can use (BuildSchema::fields, the "catalog") are not copied
// again: `fields[i]` is the span of catalog field i's value inside
// json(). That costs one 8-byte slot per catalog field and no
// per-field allocation, and lookups during assembly are O(1) by index.
// Only the fields a record of this level can contribute to a document are
// filled (see BuildSchema::kept); the others are left absent.
//
// Records the window holds between batches are *packed* instead (Pack;
// record_projection.h: ProjectIntoArena), as are a streamed full's as they
// are parsed (RecordParser::SetArena): their kept fields' values, and
// the spans of the present ones only, live in one block per object (per
// parsed piece for a full). Many
// small strings and span vectors made in one batch beside that batch's
// short-lived allocations pin half-empty allocator pages for as long as
// the window holds them; one block per object is freed whole. A packed
// record's json() is its values side by side (no keys: not a JSON object)
// and `fields` is empty: read it through field(). A copy of a packed
// record owns its values (fields_json) and dense spans (fields), so it may
// outlive the block; a move keeps the view.
struct EntityRecordData {
  // Members ordered largest first: 192 bytes with libstdc++, not 200 with
  // padding (the window holds one per record).
  std::string id;           // non-empty
  std::string parent_id;    // "" at the root level and for parentless tombstones
  std::string fields_json;  // the record's JSON object, canonical ("" when packed)
  std::string source;       // object key
  std::vector<ValueSpan> fields;  // parallel to BuildSchema::fields, offsets into json() (empty when packed)
  int64_t version = 0;      // integer as written, or RFC 3339 as Unix microseconds
  uint64_t tiebreak = 0;    // XXH3-64 of the raw line (CR/LF excluded)

 protected:
  const char* packed_ = nullptr;  // not owned: a PackedHeader, its spans and values (see Pack)
  uint32_t packed_size_ = 0;      // bytes of values

 public:
  uint32_t line = 0;        // 1-based physical line in the decoded object
  uint16_t level = 0;       // index into BuildSchema::levels (0 = root)
  bool deleted = false;     // tombstone flag
  bool active = true;       // status field in active_values (true when no status field)
  // No string of the record, its id included, needed an escape: its
  // canonical JSON had no backslash when parsed. A string value in json()
  // is then its bytes between the quotes (no JsonStringValue), and the id
  // is written as it is. The parser sets it (packing keeps it); false
  // means unknown.
  bool plain = false;
};

// Bits set in x, inline: the build targets baseline x86-64, where
// __builtin_popcountll is a call into libgcc (3% of a full build's CPU
// when field() used it).
inline size_t PopCount64(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<size_t>((x * 0x0101010101010101ull) >> 56);
}

struct EntityRecord : EntityRecordData {
  // A packed record's entry, 8-aligned in its block: `present` has bit i
  // set for each present catalog field i (< 64), the spans of those follow
  // in field order, then the values they point into. A span's offset counts
  // from the entry's start, so field() finds a value with one popcount.
  struct PackedHeader {
    uint64_t present = 0;
  };
  static size_t PackedPrefix(uint64_t present) {
    return sizeof(PackedHeader) + sizeof(ValueSpan) * PopCount64(present);
  }

  EntityRecord() = default;
  EntityRecord(EntityRecord&&) = default;
  EntityRecord& operator=(EntityRecord&&) = default;
  EntityRecord(const EntityRecord& other) : EntityRecordData(other) { Own(); }
  EntityRecord& operator=(const EntityRecord& other) {
    if (this != &other) {
      EntityRecordData::operator=(other);
      Own();
    }
    return *this;
  }

  // The record's canonical JSON object; a packed record's values, side by
  // side.
  std::string_view json() const {
    if (packed_ == nullptr) return fields_json;
    return std::string_view(packed_ + PackedPrefix(Present()), packed_size_);
  }
  // Writes the entry of a record whose present catalog fields are the bits
  // of `present` (each < 64) at `entry` (8-aligned, PackedPrefix(present)
  // bytes plus the values' sum), value_of(f) giving field f's value.
  // Returns the values' size, for Pack.
  template <typename ValueOf>
  static uint32_t WriteEntry(char* entry, uint64_t present, const ValueOf& value_of) {
    const PackedHeader header{.present = present};
    __builtin_memcpy(entry, &header, sizeof header);
    const auto prefix = static_cast<uint32_t>(PackedPrefix(present));
    char* span_at = entry + sizeof header;
    uint32_t n = 0;
    for (uint64_t bits = present; bits != 0; bits &= bits - 1) {
      const std::string_view value = value_of(static_cast<size_t>(__builtin_ctzll(bits)));
      const ValueSpan span{prefix + n, static_cast<uint32_t>(value.size())};  // from the entry's start
      __builtin_memcpy(span_at, &span, sizeof span);
      span_at += sizeof span;
      __builtin_memcpy(entry + prefix + n, value.data(), value.size());
      n += span.length;
    }
    return n;
  }
  // From now on the record reads its fields from `entry` (a PackedHeader,
  // its spans and `values_size` bytes of values; the caller keeps it alive
  // for as long as this record, or a record moved from it, is used), and
  // fields_json and fields are freed.
  void Pack(const char* entry, uint32_t values_size) {
    std::string().swap(fields_json);
    std::vector<ValueSpan>().swap(fields);
    packed_ = entry;
    packed_size_ = values_size;
  }
  // From now on json() is `text`, owned.
  void SetJson(std::string text) {
    fields_json = std::move(text);
    packed_ = nullptr;
    packed_size_ = 0;
  }
  bool packed() const { return packed_ != nullptr; }
  // One past the last catalog index field() may find present: fields.size(),
  // or for a packed record its last present field's index + 1.
  size_t field_limit() const {
    if (packed_ == nullptr) return fields.size();
    const uint64_t present = Present();
    return present == 0 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(present));
  }
  // The bytes field() reads besides `fields`: the canonical text, or a
  // packed record's whole entry (header, spans and values). For
  // prefetching.
  std::string_view entry() const {
    if (packed_ == nullptr) return fields_json;
    return std::string_view(packed_, PackedPrefix(Present()) + packed_size_);
  }

  // Whether field(index) is non-empty. A packed record answers from its
  // presence bits alone.
  bool has_field(size_t index) const {
    if (packed_ != nullptr) return index < 64 && (Present() >> index & 1) != 0;
    return index < fields.size() && fields[index].present();
  }
  // Canonical JSON text of catalog field `index`; "" when absent.
  std::string_view field(size_t index) const {
    if (packed_ != nullptr) {
      const uint64_t present = Present();
      if (index >= 64 || (present >> index & 1) == 0) return {};
      const ValueSpan span = PackedSpan(PopCount64(present & ((uint64_t{1} << index) - 1)));
      return std::string_view(packed_ + span.offset, span.length);
    }
    if (index >= fields.size() || !fields[index].present()) return {};
    return std::string_view(fields_json).substr(fields[index].offset, fields[index].length);
  }

 private:
  uint64_t Present() const {
    PackedHeader h;
    __builtin_memcpy(&h, packed_, sizeof h);
    return h.present;
  }
  ValueSpan PackedSpan(size_t rank) const {
    ValueSpan span;
    __builtin_memcpy(&span, packed_ + sizeof(PackedHeader) + rank * sizeof(ValueSpan), sizeof span);
    return span;
  }
  // A copy owns its fields: the block a packed record points into may go
  // first.
  void Own() {
    if (packed_ == nullptr) return;
    const uint64_t present = Present();
    const auto prefix = static_cast<uint32_t>(PackedPrefix(present));
    fields_json.assign(json());
    fields.assign(field_limit(), ValueSpan{});
    size_t rank = 0;
    for (size_t f = 0; f < fields.size(); ++f) {
      if (present >> f & 1) {
        const ValueSpan span = PackedSpan(rank++);
        fields[f] = ValueSpan{span.offset - prefix, span.length};
      }
    }
    packed_ = nullptr;
    packed_size_ = 0;
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
