#include "ingest/record_parser.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "ingest/json_text.h"
#include "freshet/time.h"
#include "index/tokenizer.h"

namespace freshet {
namespace {

using Pool = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Pool>;
using Member = Value::Member;

// Iterative: a megabyte of '[' must not overflow the stack. In situ: strings
// are decoded into the line's own copy. Numbers as text: NumberHandler
// converts them (ParseJsonNumber, correctly rounded; rapidjson 1.1's own
// conversion has undefined behaviour on some inputs, json_text.h).
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
using Reader = rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, Pool>;

// Builds `doc` from the reader's events as the document's own parse does,
// except that a number arrives as its text and is converted here. A number
// beyond the largest double stops the parse (too_big).
struct NumberHandler {
  Document& doc;
  bool too_big = false;
  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  bool Double(double d) { return doc.Double(d); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc.String(s, n, copy); }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType members) { return doc.EndObject(members); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc.EndArray(elements); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    const JsonNumber v = ParseJsonNumber({s, n});
    switch (v.kind) {
      case JsonNumber::kUint: return doc.Uint(static_cast<unsigned>(v.u));
      case JsonNumber::kInt: return doc.Int(static_cast<int>(v.i));
      case JsonNumber::kUint64: return doc.Uint64(v.u);
      case JsonNumber::kInt64: return doc.Int64(v.i);
      case JsonNumber::kDouble: return doc.Double(v.d);
      case JsonNumber::kTooBig: break;
    }
    too_big = true;
    return false;
  }
};

// Per-line DOM memory comes from these buffers; larger lines spill to malloc.
constexpr size_t kValuePoolBytes = 64 * 1024;
constexpr size_t kStackPoolBytes = 16 * 1024;

std::string_view Str(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

bool MemberLess(const Member* a, const Member* b) {
  const int c = Str(a->name).compare(Str(b->name));
  return c != 0 ? c < 0 : a < b;  // equal keys keep input order
}

std::string_view TypeName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "unknown";
}

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

bool IsKeywordScalar(const Value& v) { return v.IsString() || v.IsNumber(); }

// ASCII is well-formed UTF-8; checking it a word at a time lets the common
// line skip the byte-by-byte validator.
bool IsAscii(std::string_view s) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

}  // namespace

struct RecordParser::Impl {
  explicit Impl(const SchemaOptions& options)
      : schema(CompileBuildSchema(options)),
        value_buffer(kValuePoolBytes),
        stack_buffer(kStackPoolBytes),
        value_pool(value_buffer.data(), value_buffer.size()),
        stack_pool(stack_buffer.data(), stack_buffer.size()) {
    // Every top-level name the parser reads, sorted, so one merge pass over
    // a record's sorted members finds them all.
    const SchemaOptions& o = schema.options;
    names = schema.fields;
    for (const std::string* n : {&o.id_field, &o.version_field, &o.deleted_field, &o.type_field}) names.push_back(*n);
    for (const LevelOptions& l : schema.levels) {
      names.push_back(l.parent_field);
      names.push_back(l.status_field);
    }
    std::erase(names, std::string());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    id_slot = Slot(o.id_field);
    version_slot = Slot(o.version_field);
    deleted_slot = Slot(o.deleted_field);
    type_slot = Slot(o.type_field);
    for (const LevelOptions& l : schema.levels) {
      parent_slot.push_back(Slot(l.parent_field));
      status_slot.push_back(Slot(l.status_field));
    }
    for (const std::string& f : schema.fields) field_slot.push_back(Slot(f));
  }

  int Slot(std::string_view name) const {
    auto it = std::lower_bound(names.begin(), names.end(), name);
    return (it == names.end() || *it != name || name.empty()) ? -1 : static_cast<int>(it - names.begin());
  }

  BuildSchema schema;
  std::vector<std::string> names;  // sorted top-level names of interest
  int id_slot, version_slot, deleted_slot, type_slot;
  std::vector<int> parent_slot, status_slot;  // per level
  std::vector<int> field_slot;                // per catalog field

  std::vector<char> value_buffer;
  std::vector<char> stack_buffer;
  Pool value_pool;
  Pool stack_pool;
  std::string insitu;  // the line copied for in-situ parsing (rapidjson writes into it)
  std::string canon;   // canonical JSON of the current line
  bool verbatim_strings = false;  // the line has no '\\': strings need no escaping
  std::vector<std::vector<const Member*>> members_by_depth;  // sort scratch, reused
  std::vector<ValueSpan> top_spans;                          // parallel to members_by_depth[0]
  std::vector<int> slot_member;                              // names[k] -> index in members_by_depth[0], or -1
  std::string reason;

  // Fills *record from `line` (all but source/line), or sets `reason`.
  bool Parse(std::string_view line, EntityRecord* record);
  // Parse for the common line, without rapidjson: see FastParse below.
  // False: not such a line, or not a good one; Parse then decides.
  bool FastParse(std::string_view line, EntityRecord* record);
  struct FastMember {
    std::string_view key;
    std::string_view text;  // the value as written (a string: between its quotes)
    enum Kind : uint8_t { kNull, kBool, kInt, kString } kind = kNull;
    uint32_t span_offset = 0, span_length = 0;  // in canon
  };
  bool fast_path = true;
  uint64_t fast_lines = 0;
  std::vector<FastMember> fast_members;  // scratch, reused
  std::vector<FastMember> fast_sorted;   // scratch
  // The last sorted line's keys in line order, each ended by a NUL, and
  // for each sorted position the line index of its member.
  std::string last_keys;
  std::vector<uint8_t> last_order;
  size_t last_count = 0;
  // Whether fast_members name last_keys, in that order.
  bool SameKeysAsLastLine() const {
    if (fast_members.size() != last_count || last_order.size() != last_count || last_count == 0) return false;
    size_t at = 0;
    for (const FastMember& m : fast_members) {
      const size_t n = m.key.size();
      if (at + n >= last_keys.size() || last_keys[at + n] != '\0' ||
          std::memcmp(last_keys.data() + at, m.key.data(), n) != 0) {
        return false;
      }
      at += n + 1;
    }
    return true;
  }
  std::vector<int> fast_slot_member;     // names[k] -> index in fast_members, or -1
  // fast_slot_member is whole and was made for a line whose keys were
  // last_keys (false from the moment a new mapping starts until it is done).
  bool slots_of_last_keys = false;
  bool WriteCanonical(const Value& v, int depth);
  // What a good line says, once checked.
  struct Accepted {
    uint16_t level;
    std::string_view id, parent_id;
    int64_t version;
    bool deleted, active;
    bool plain;  // canon holds no backslash (EntityRecord::plain)
  };
  // Fills *record with `a`, canon (taken: it regrows next line) and, for
  // each field the level keeps, span_of(catalog index) (absent: {}), a
  // span of canon; or, packing (Packs()), of `text`, which may be the line
  // itself (FastParse then makes no canon).
  bool Packs() const { return arena != nullptr && schema.fields.size() <= 64; }
  template <typename SpanOf>
  void Accept(const Accepted& a, std::string_view line, EntityRecord* record, const SpanOf& span_of,
              std::string_view text) {
    record->level = a.level;
    record->id.assign(a.id);
    record->parent_id.assign(a.parent_id);
    record->version = a.version;
    record->deleted = a.deleted;
    record->active = a.active;
    record->plain = a.plain;
    const auto& kept = schema.kept[a.level];
    if (Packs()) {
      PackInto(record, kept, span_of, text);
    } else {
      record->fields.assign(schema.fields.size(), ValueSpan{});
      for (uint32_t f = 0; f < schema.fields.size(); ++f) {
        if (kept[f]) record->fields[f] = span_of(f);
      }
      record->fields_json.swap(canon);
    }
    record->tiebreak = XXH3_64bits(line.data(), line.size());
  }
  // Accept's packed form: the kept fields' values, copied from `text` into
  // one entry of `arena` (EntityRecord::PackedHeader layout). canon keeps
  // its buffer for the next line.
  template <typename SpanOf>
  void PackInto(EntityRecord* record, const std::vector<bool>& kept, const SpanOf& span_of, std::string_view text) {
    uint64_t present = 0;
    size_t values = 0;
    for (uint32_t f = 0; f < schema.fields.size(); ++f) {
      if (!kept[f]) continue;
      const ValueSpan span = span_of(f);
      if (!span.present()) continue;
      present |= uint64_t{1} << f;
      values += span.length;
    }
    char* const entry = arena->Allocate(EntityRecord::PackedPrefix(present) + values);
    const uint32_t n = EntityRecord::WriteEntry(entry, present, [&](size_t f) {
      const ValueSpan span = span_of(static_cast<uint32_t>(f));
      return text.substr(span.offset, span.length);
    });
    record->Pack(entry, n);
  }
  RecordArena* arena = nullptr;  // SetArena's
  void WriteString(std::string_view s) {
    if (verbatim_strings) {
      canon.push_back('"');
      canon.append(s);
      canon.push_back('"');
    } else {
      AppendJsonString(&canon, s);
    }
  }
  std::vector<const Member*>& SortedMembers(const Value& object, int depth);
  // The top-level value for a slot; nullptr when absent or null.
  const Value* TopValue(int slot) const {
    if (slot < 0 || slot_member[static_cast<size_t>(slot)] < 0) return nullptr;
    const Value* v = &members_by_depth[0][static_cast<size_t>(slot_member[static_cast<size_t>(slot)])]->value;
    return v->IsNull() ? nullptr : v;
  }
  bool Fail(std::string_view kind, std::string_view detail = {}) {
    reason.assign(kind);
    if (!detail.empty()) {
      reason.append(": ");
      reason.append(detail);
    }
    return false;
  }
};

std::vector<const Member*>& RecordParser::Impl::SortedMembers(const Value& object, int depth) {
  if (members_by_depth.size() <= static_cast<size_t>(depth)) members_by_depth.resize(depth + 1);
  auto& sorted = members_by_depth[static_cast<size_t>(depth)];
  sorted.clear();
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) sorted.push_back(&*it);
  std::sort(sorted.begin(), sorted.end(), MemberLess);
  return sorted;
}

bool RecordParser::Impl::WriteCanonical(const Value& v, int depth) {
  if (depth > kMaxJsonDepth) return false;
  switch (v.GetType()) {
    case rapidjson::kNullType: canon.append("null"); return true;
    case rapidjson::kFalseType: canon.append("false"); return true;
    case rapidjson::kTrueType: canon.append("true"); return true;
    case rapidjson::kStringType: WriteString(Str(v)); return true;
    case rapidjson::kNumberType: {
      char buf[32];
      char* end;
      if (v.IsDouble()) {
        // The same shortest round-trip text rapidjson's Writer produces
        // (the parser never yields NaN or infinities).
        end = rapidjson::internal::dtoa(v.GetDouble(), buf, 324);
      } else if (v.IsInt64()) {
        end = std::to_chars(buf, buf + sizeof buf, v.GetInt64()).ptr;
      } else {
        end = std::to_chars(buf, buf + sizeof buf, v.GetUint64()).ptr;
      }
      canon.append(buf, end);
      return true;
    }
    case rapidjson::kArrayType: {
      canon.push_back('[');
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) canon.push_back(',');
        first = false;
        if (!WriteCanonical(e, depth + 1)) return false;
      }
      canon.push_back(']');
      return true;
    }
    case rapidjson::kObjectType: {
      canon.push_back('{');
      // Recursion below may reuse deeper slots; this depth's vector stays put
      // only while members_by_depth does not reallocate, so index, not hold.
      SortedMembers(v, depth);
      const size_t n = members_by_depth[static_cast<size_t>(depth)].size();
      for (size_t i = 0; i < n; ++i) {
        const Member* m = members_by_depth[static_cast<size_t>(depth)][i];
        if (i > 0) canon.push_back(',');
        WriteString(Str(m->name));
        canon.push_back(':');
        if (!WriteCanonical(m->value, depth + 1)) return false;
      }
      canon.push_back('}');
      return true;
    }
  }
  return false;
}

bool RecordParser::Impl::Parse(std::string_view line, EntityRecord* record) {
  const SchemaOptions& opt = schema.options;
  if (line.size() > opt.max_record_bytes) {
    return Fail(kReasonLineTooLong,
                std::to_string(line.size()) + " bytes > " + std::to_string(opt.max_record_bytes));
  }
  if (!IsAscii(line) && !IsValidUtf8(line)) return Fail(kReasonInvalidUtf8);
  // rapidjson stops at a NUL byte as if the text ended there; JSON text
  // never contains a raw NUL, so it is a syntax error at that column.
  if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
    const size_t col = static_cast<const char*>(nul) - line.data() + 1;
    return Fail(kReasonInvalidJson, "NUL byte (column " + std::to_string(col) + ")");
  }

  if (fast_path && FastParse(line, record)) {
    ++fast_lines;
    return true;
  }

  insitu.assign(line);
  value_pool.Clear();
  stack_pool.Clear();
  Document doc(&value_pool, 1024, &stack_pool);
  Reader reader(&stack_pool);
  NumberHandler handler{doc};
  auto parse = [&](Document&) {
    rapidjson::InsituStringStream in(insitu.data());
    return !reader.Parse<kParseFlags>(in, handler).IsError();
  };
  doc.Populate(parse);
  if (reader.HasParseError()) {
    // A number too big for a double stops the parse at its first byte,
    // as rapidjson itself stops at most such numbers.
    const rapidjson::ParseErrorCode code =
        handler.too_big ? rapidjson::kParseErrorNumberTooBig : reader.GetParseErrorCode();
    return Fail(kReasonInvalidJson, std::string(rapidjson::GetParseError_En(code)) + " (column " +
                                        std::to_string(reader.GetErrorOffset() + 1) + ")");
  }
  if (!doc.IsObject()) return Fail(kReasonNotObject, TypeName(doc));

  // Canonical form of the whole object, remembering where each top-level
  // value lands and which member each name of interest is. A line without a
  // backslash has no escapes, so no string in it needs any either (raw JSON
  // strings cannot hold quotes or control characters).
  verbatim_strings = std::memchr(line.data(), '\\', line.size()) == nullptr;
  canon.clear();
  canon.reserve(line.size() + 16);
  canon.push_back('{');
  SortedMembers(doc, 0);
  top_spans.resize(members_by_depth[0].size());
  slot_member.assign(names.size(), -1);
  size_t k = 0;  // merge cursor into `names`
  for (size_t i = 0; i < members_by_depth[0].size(); ++i) {
    const Member* m = members_by_depth[0][i];
    const std::string_view name = Str(m->name);
    while (k < names.size() && std::string_view(names[k]) < name) ++k;
    if (k < names.size() && names[k] == name && slot_member[k] < 0) slot_member[k] = static_cast<int>(i);
    if (i > 0) canon.push_back(',');
    WriteString(name);
    canon.push_back(':');
    const size_t offset = canon.size();
    if (!WriteCanonical(m->value, 1)) {
      return Fail(kReasonInvalidJson, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    const size_t length = canon.size() - offset;
    const uint64_t measured = m->value.IsString() ? m->value.GetStringLength() : length;
    if (measured > opt.max_field_bytes) {
      return Fail(kReasonFieldTooLong, Utf8Excerpt(Str(m->name), 100) + " (" + std::to_string(measured) +
                                           " bytes > " + std::to_string(opt.max_field_bytes) + ")");
    }
    top_spans[i] = {static_cast<uint32_t>(offset), static_cast<uint32_t>(length)};
  }
  canon.push_back('}');
  if (canon.size() > std::numeric_limits<uint32_t>::max()) {
    return Fail(kReasonLineTooLong, "canonical form exceeds 4 GiB");
  }
  // The raw line was valid UTF-8, but rapidjson decodes a lone low
  // surrogate escape (\udc00) into ill-formed bytes. Only lines with a \u
  // escape can have that, so only they pay for a second check.
  if (!verbatim_strings && line.find("\\u") != std::string_view::npos && !IsValidUtf8(canon)) {
    return Fail(kReasonInvalidUtf8, "a \\u escape encodes a lone surrogate");
  }

  const Value* id = TopValue(id_slot);
  if (id == nullptr) return Fail(kReasonMissingId);
  if (!id->IsString() || id->GetStringLength() == 0) return Fail(kReasonBadId);

  const Value* version = TopValue(version_slot);
  if (version == nullptr) return Fail(kReasonMissingVersion);
  int64_t version_value = 0;
  if (version->IsInt64()) {
    version_value = version->GetInt64();
  } else if (version->IsString()) {
    Result<TimePoint> t = ParseRfc3339(Str(*version), &version_value);
    if (!t.ok()) return Fail(kReasonInvalidVersion, Utf8Excerpt(t.status().message(), 200));
  } else {
    return Fail(kReasonInvalidVersion,
                std::string("must be an integer or an RFC 3339 string, not ") + std::string(TypeName(*version)));
  }

  uint16_t level = 0;
  if (!schema.placeable) return Fail(kReasonUnknownType, "the schema has several levels but no type_field");
  if (schema.typed) {
    const Value* type = TopValue(type_slot);
    if (type == nullptr) return Fail(kReasonUnknownType, "no \"" + opt.type_field + "\" field");
    if (!type->IsString()) return Fail(kReasonUnknownType, std::string(TypeName(*type)));
    const int l = schema.LevelIndex(Str(*type));
    if (l < 0) {
      std::string shown;
      AppendJsonString(&shown, Str(*type));
      return Fail(kReasonUnknownType, Utf8Excerpt(shown, 100));
    }
    level = static_cast<uint16_t>(l);
  }
  const LevelOptions& lv = schema.levels[level];

  bool deleted = false;
  if (!opt.deleted_field.empty()) {
    if (const Value* d = TopValue(deleted_slot)) {
      if (!d->IsBool()) {
        return Fail(kReasonBadDeleted, opt.deleted_field + " must be a boolean, not " + std::string(TypeName(*d)));
      }
      deleted = d->GetBool();
    }
  }

  std::string_view parent_id;
  if (level > 0) {
    const Value* p = TopValue(parent_slot[level]);
    if (p != nullptr && p->IsString() && p->GetStringLength() > 0) {
      parent_id = Str(*p);
    } else if (!deleted) {
      if (lv.parent_field.empty()) return Fail(kReasonMissingParent, "level " + lv.name + " has no parent_field");
      if (p == nullptr) return Fail(kReasonMissingParent, lv.parent_field);
      return Fail(kReasonMissingParent, lv.parent_field + " is not a non-empty string");
    }
  }

  bool active = true;
  if (!lv.status_field.empty()) {
    const Value* s = TopValue(status_slot[level]);
    active = s != nullptr && s->IsString() &&
             std::find(lv.active_values.begin(), lv.active_values.end(), Str(*s)) != lv.active_values.end();
  }

  for (uint32_t f : schema.text_checked[level]) {
    const Value* v = TopValue(field_slot[f]);
    if (v != nullptr && !v->IsString()) return Fail(kReasonTextNotString, schema.fields[f]);
  }
  for (uint32_t f : schema.keyword_checked[level]) {
    const Value* v = TopValue(field_slot[f]);
    if (v == nullptr || IsKeywordScalar(*v)) continue;
    bool ok = v->IsArray();
    if (ok) {
      for (const auto& e : v->GetArray()) ok = ok && IsKeywordScalar(e);
    }
    if (!ok) return Fail(kReasonBadKeyword, schema.fields[f]);
  }

  const bool plain = std::memchr(canon.data(), '\\', canon.size()) == nullptr;
  Accept({level, Str(*id), parent_id, version_value, deleted, active, plain}, line, record, [this](uint32_t f) {
    if (TopValue(field_slot[f]) == nullptr) return ValueSpan{};
    return top_spans[static_cast<size_t>(slot_member[static_cast<size_t>(field_slot[f])])];
  }, canon);
  return true;
}

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

// The line most feeds are made of: a flat object whose values are strings,
// integers, booleans and nulls, with no escape anywhere and no repeated
// key. For it the canonical form is the members sorted by key with their
// values as written, so it is made here in one scan, without rapidjson's
// DOM. Anything else -- an escape, a number that is not a plain integer of
// at most 18 digits, an array or object, a control character in a string,
// a repeated key, a value over max_field_bytes -- and any record that would
// be rejected return false, and Parse decides as for every line: this
// path only ever accepts, and what it accepts is byte for byte what Parse
// makes of the line (RecordParserTest.TheFastPathAgreesWithTheGeneralOne).
// REQUIRES: the checks Parse makes before it (length, UTF-8, NUL) passed.
bool RecordParser::Impl::FastParse(std::string_view line, EntityRecord* record) {
  if (std::memchr(line.data(), '\\', line.size()) != nullptr) return false;
  const SchemaOptions& opt = schema.options;
  const char* p = line.data();
  const char* const end = p + line.size();
  auto skip_space = [&] {
    while (p < end && IsJsonSpace(*p)) ++p;
  };
  // A string's bytes up to its closing quote; false at a control character
  // (invalid JSON: Parse says so) or the line's end.
  auto scan_string = [&](std::string_view* out) {
    const char* begin = ++p;  // past the opening quote
    while (p < end && *p != '"') {
      if (static_cast<unsigned char>(*p) < 0x20) return false;
      ++p;
    }
    if (p == end) return false;
    *out = std::string_view(begin, static_cast<size_t>(p - begin));
    ++p;  // past the closing quote
    return true;
  };
  fast_members.clear();
  skip_space();
  if (p == end || *p != '{') return false;
  ++p;
  skip_space();
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      // Filled where it stays: a FastMember built aside and pushed was
      // copied through the stack, and the copy's 16-byte loads of what had
      // just been stored 8 bytes at a time were a third of this function.
      FastMember& m = fast_members.emplace_back();
      if (p == end || *p != '"' || !scan_string(&m.key)) return false;
      skip_space();
      if (p == end || *p != ':') return false;
      ++p;
      skip_space();
      if (p == end) return false;
      if (*p == '"') {
        if (!scan_string(&m.text)) return false;
        m.kind = FastMember::kString;
      } else {
        const char* begin = p;
        while (p < end && !IsJsonSpace(*p) && *p != ',' && *p != '}') ++p;
        m.text = std::string_view(begin, static_cast<size_t>(p - begin));
        if (m.text == "true" || m.text == "false") {
          m.kind = FastMember::kBool;
        } else if (m.text == "null") {
          m.kind = FastMember::kNull;
        } else {
          // -?(0|[1-9][0-9]*), at most 18 digits (an int64 however signed),
          // and not -0 (a double): written back exactly as read.
          std::string_view digits = m.text;
          if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
          if (digits.empty() || digits.size() > 18 || (digits.front() == '0' && m.text.size() > 1)) return false;
          for (char c : digits) {
            if (c < '0' || c > '9') return false;
          }
          m.kind = FastMember::kInt;
        }
      }
      skip_space();
      if (p == end) return false;
      if (*p == ',') {
        ++p;
        skip_space();
        continue;
      }
      if (*p != '}') return false;
      ++p;
      break;
    }
  }
  skip_space();
  if (p != end) return false;  // more after the object: invalid JSON, Parse says where

  // Sorted by key (bytewise, as MemberLess); a repeated key goes to Parse.
  // The lines of one object mostly name the same keys in the same order:
  // the order found for the line before is used again when they do.
  const bool same_keys = SameKeysAsLastLine();
  if (same_keys) {
    fast_sorted.resize(last_count);
    for (size_t k = 0; k < last_count; ++k) fast_sorted[k] = fast_members[last_order[k]];
    fast_members.swap(fast_sorted);
  } else {
    last_keys.clear();
    last_order.clear();
    last_count = 0;
    const size_t n = fast_members.size();
    fast_sorted.assign(fast_members.begin(), fast_members.end());  // line order, for last_keys
    std::sort(fast_members.begin(), fast_members.end(),
              [](const FastMember& a, const FastMember& b) { return a.key < b.key; });
    for (size_t i = 1; i < n; ++i) {
      if (fast_members[i - 1].key == fast_members[i].key) return false;
    }
    if (n <= 255) {
      // Remember the keys in line order and where each sorted one was.
      for (const FastMember& m : fast_sorted) {
        last_keys.append(m.key);
        last_keys.push_back('\0');  // (no key holds a NUL: Parse rejects the line first)
      }
      for (const FastMember& m : fast_members) {
        for (size_t i = 0; i < n; ++i) {
          if (fast_sorted[i].key.data() == m.key.data()) {
            last_order.push_back(static_cast<uint8_t>(i));
            break;
          }
        }
      }
      last_count = n;
    }
  }
  // The canonical text, sized once and written in place: {"key":value,...}
  // (a string value keeps its quotes). Not when packing: a value's
  // canonical text is then the line's own (quotes included), which the
  // record's entry copies.
  const bool packs = Packs();
  char* out = nullptr;
  if (!packs) {
    size_t size = 2 + (fast_members.empty() ? 0 : fast_members.size() - 1);
    for (const FastMember& m : fast_members) {
      size += m.key.size() + 3 + m.text.size() + (m.kind == FastMember::kString ? 2 : 0);
    }
    canon.resize(size);
    out = canon.data();
    *out++ = '{';
  }
  auto put = [&out](std::string_view piece) {
    std::memcpy(out, piece.data(), piece.size());
    out += piece.size();
  };
  // Which member each name of interest is: the same as for the line before
  // when it named the same keys in the same order (they sort the same).
  const bool map_names = !same_keys || !slots_of_last_keys;
  if (map_names) {
    fast_slot_member.assign(names.size(), -1);
    slots_of_last_keys = false;  // until the mapping is whole (a return below may cut it short)
  }
  size_t k = 0;  // merge cursor into `names`
  for (size_t i = 0; i < fast_members.size(); ++i) {
    FastMember& m = fast_members[i];
    if (map_names) {
      while (k < names.size() && std::string_view(names[k]) < m.key) ++k;
      if (k < names.size() && names[k] == m.key) fast_slot_member[k] = static_cast<int>(i);
    }
    const bool quoted = m.kind == FastMember::kString;
    size_t offset, length;
    if (packs) {
      offset = static_cast<size_t>(m.text.data() - line.data()) - (quoted ? 1 : 0);
      length = m.text.size() + (quoted ? 2 : 0);
    } else {
      if (i > 0) *out++ = ',';
      *out++ = '"';
      put(m.key);
      *out++ = '"';
      *out++ = ':';
      offset = static_cast<size_t>(out - canon.data());
      if (quoted) *out++ = '"';
      put(m.text);
      if (quoted) *out++ = '"';
      length = static_cast<size_t>(out - canon.data()) - offset;
    }
    if ((quoted ? m.text.size() : length) > opt.max_field_bytes) return false;
    m.span_offset = static_cast<uint32_t>(offset);
    m.span_length = static_cast<uint32_t>(length);
  }
  if (!packs) *out = '}';
  // The next line may reuse the mapping if last_keys now describe this one.
  slots_of_last_keys = last_count > 0;
  // The members of interest; nullptr when absent or null (as TopValue).
  auto top = [this](int slot) -> const FastMember* {
    if (slot < 0 || fast_slot_member[static_cast<size_t>(slot)] < 0) return nullptr;
    const FastMember* m = &fast_members[static_cast<size_t>(fast_slot_member[static_cast<size_t>(slot)])];
    return m->kind == FastMember::kNull ? nullptr : m;
  };

  const FastMember* id = top(id_slot);
  if (id == nullptr || id->kind != FastMember::kString || id->text.empty()) return false;
  const FastMember* version = top(version_slot);
  if (version == nullptr) return false;
  int64_t version_value = 0;
  if (version->kind == FastMember::kInt) {
    if (std::from_chars(version->text.data(), version->text.data() + version->text.size(), version_value).ec !=
        std::errc()) {
      return false;
    }
  } else if (version->kind == FastMember::kString) {
    if (!ParseRfc3339(version->text, &version_value).ok()) return false;
  } else {
    return false;
  }
  if (!schema.placeable) return false;
  uint16_t level = 0;
  if (schema.typed) {
    const FastMember* type = top(type_slot);
    if (type == nullptr || type->kind != FastMember::kString) return false;
    const int l = schema.LevelIndex(type->text);
    if (l < 0) return false;
    level = static_cast<uint16_t>(l);
  }
  const LevelOptions& lv = schema.levels[level];
  bool deleted = false;
  if (!opt.deleted_field.empty()) {
    if (const FastMember* d = top(deleted_slot)) {
      if (d->kind != FastMember::kBool) return false;
      deleted = d->text == "true";
    }
  }
  std::string_view parent_id;
  if (level > 0) {
    const FastMember* pm = top(parent_slot[level]);
    if (pm != nullptr && pm->kind == FastMember::kString && !pm->text.empty()) {
      parent_id = pm->text;
    } else if (!deleted) {
      return false;
    }
  }
  bool active = true;
  if (!lv.status_field.empty()) {
    const FastMember* st = top(status_slot[level]);
    active = st != nullptr && st->kind == FastMember::kString &&
             std::find(lv.active_values.begin(), lv.active_values.end(), st->text) != lv.active_values.end();
  }
  for (uint32_t f : schema.text_checked[level]) {
    const FastMember* v = top(field_slot[f]);
    if (v != nullptr && v->kind != FastMember::kString) return false;
  }
  for (uint32_t f : schema.keyword_checked[level]) {
    const FastMember* v = top(field_slot[f]);
    if (v != nullptr && v->kind != FastMember::kString && v->kind != FastMember::kInt) return false;
  }

  // (A line with a backslash never comes this way.)
  Accept({level, id->text, parent_id, version_value, deleted, active, true}, line, record, [&top, this](uint32_t f) {
    const FastMember* v = top(field_slot[f]);
    return v == nullptr ? ValueSpan{} : ValueSpan{v->span_offset, v->span_length};
  }, packs ? line : std::string_view(canon));
  return true;
}

RecordParser::RecordParser(const SchemaOptions& schema) : impl_(std::make_unique<Impl>(schema)) {}
RecordParser::~RecordParser() = default;
RecordParser::RecordParser(RecordParser&&) noexcept = default;
RecordParser& RecordParser::operator=(RecordParser&&) noexcept = default;

const BuildSchema& RecordParser::schema() const { return impl_->schema; }

void RecordParser::SetArena(RecordArena* arena) { impl_->arena = arena; }
void RecordParser::UseGeneralPathOnly() { impl_->fast_path = false; }
uint64_t RecordParser::fast_path_lines() const { return impl_->fast_lines; }

bool RecordParser::ParseLine(std::string_view source, uint32_t line_no, std::string_view line,
                             EntityRecord* record, QuarantineEntry* bad) {
  if (impl_->Parse(line, record)) {
    record->source.assign(source);
    record->line = line_no;
    return true;
  }
  bad->source.assign(source);
  bad->line = line_no;
  bad->reason = impl_->reason;
  bad->excerpt = Utf8Excerpt(line, kExcerptBytes);
  return false;
}

uint64_t RecordParser::ParseObject(std::string_view source, std::string_view body,
                                   std::vector<EntityRecord>* records, std::vector<QuarantineEntry>* bad) {
  uint64_t lines = 0;
  return ParsePiece(source, body, true, records, bad, &lines);
}

uint64_t RecordParser::ParsePiece(std::string_view source, std::string_view body, bool object_start,
                                  std::vector<EntityRecord>* records, std::vector<QuarantineEntry>* bad,
                                  uint64_t* lines_out) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (object_start && body.substr(0, kBom.size()) == kBom) body.remove_prefix(kBom.size());
  uint64_t seen = 0;
  uint64_t line_no = 0;
  size_t pos = 0;
  QuarantineEntry entry;
  // One record per line, at most: growing the vector by doubling would copy
  // (and page-fault in) every record of a big object about twice.
  size_t lines = 1;
  for (const char* p = body.data(); (p = static_cast<const char*>(std::memchr(
                                         p, '\n', body.size() - static_cast<size_t>(p - body.data())))) != nullptr;
       ++p) {
    ++lines;
  }
  // Callers append many objects to one vector: keep the growth geometric.
  if (const size_t want = records->size() + lines; want > records->capacity()) {
    records->reserve(std::max(want, records->capacity() * 2));
  }
  while (pos < body.size()) {
    const void* nl = std::memchr(body.data() + pos, '\n', body.size() - pos);
    const size_t end = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - body.data()) : body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || ((line.front() == ' ' || line.front() == '\t' || line.front() == '\r') && IsBlank(line))) {
      continue;
    }
    ++seen;
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(line_no, std::numeric_limits<uint32_t>::max()));
    records->emplace_back();
    if (!ParseLine(source, n, line, &records->back(), &entry)) {
      records->pop_back();
      bad->push_back(std::move(entry));
    }
  }
  *lines_out = line_no;
  return seen;
}

}  // namespace freshet
