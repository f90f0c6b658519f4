// The record parser must take any bytes as an NDJSON object without
// crashing, and every outcome must be well-formed:
// - every non-blank line is either a record or a quarantine entry;
// - a record's fields_json is valid UTF-8 and canonical (parsing it again
//   gives the same bytes);
// - an excerpt is valid UTF-8 and a reason starts with a known prefix;
// - tables, documents and the quarantine object build from whatever parsed;
// - the same body parsed into an arena (RecordParser::SetArena, as a
//   streamed full's pieces are) gives the same records, field by field.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/batch_input.h"
#include "ingest/doc_assembler.h"
#include "ingest/entity_table.h"
#include "ingest/record_parser.h"
#include "index/tokenizer.h"

namespace {

using namespace freshet;

bool KnownReason(std::string_view reason) {
  const std::string_view kind = ReasonKind(reason);
  for (std::string_view k : {kReasonInvalidJson, kReasonNotObject, kReasonMissingId, kReasonBadId,
                             kReasonMissingVersion, kReasonInvalidVersion, kReasonUnknownType, kReasonMissingParent,
                             kReasonInvalidUtf8, kReasonLineTooLong, kReasonFieldTooLong, kReasonBadDeleted,
                             kReasonTextNotString, kReasonBadKeyword}) {
    if (kind == k) return true;
  }
  return false;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

// `parser` is reused across inputs, as a batch reuses one for every object:
// nothing an input leaves behind may change how the next one parses.
// `reparse` has the same schema without the line limit: a canonical form may
// be longer than the line it came from (numbers are written out in full).
// `packed`, when given, has the same schema as `parser` and parses into an
// arena (given for one schema: this target is already the longest of the
// ASan stage).
void RunSchema(RecordParser& parser, RecordParser& reparse, RecordParser* packed, std::string_view body) {
  const SchemaOptions& schema = parser.schema().options;
  std::vector<EntityRecord> records;
  std::vector<QuarantineEntry> bad;
  const uint64_t seen = parser.ParseObject("fuzz/obj", body, &records, &bad);
  Check(seen == records.size() + bad.size());
  if (packed != nullptr) {
    RecordArena arena;
    packed->SetArena(&arena);
    std::vector<EntityRecord> in_arena;
    std::vector<QuarantineEntry> bad_too;
    Check(packed->ParseObject("fuzz/obj", body, &in_arena, &bad_too) == seen);
    Check(in_arena.size() == records.size() && bad_too == bad);
    for (size_t i = 0; i < records.size(); ++i) {
      const EntityRecord& a = records[i];
      const EntityRecord& b = in_arena[i];
      Check(a.id == b.id && a.parent_id == b.parent_id && a.level == b.level && a.version == b.version &&
            a.deleted == b.deleted && a.active == b.active && a.plain == b.plain && a.tiebreak == b.tiebreak &&
            a.line == b.line);
      for (size_t f = 0; f < parser.schema().fields.size(); ++f) Check(a.field(f) == b.field(f));
    }
    packed->SetArena(nullptr);
  }
  for (const EntityRecord& r : records) {
    Check(!r.id.empty() && r.level < parser.schema().levels.size());
    Check(IsValidUtf8(r.fields_json));
    EntityRecord again;
    QuarantineEntry why;
    Check(reparse.ParseLine("again", 1, r.fields_json, &again, &why));
    Check(again.fields_json == r.fields_json && again.id == r.id && again.version == r.version);
  }
  for (const QuarantineEntry& q : bad) {
    Check(KnownReason(q.reason));
    Check(IsValidUtf8(q.excerpt) && IsValidUtf8(q.reason));
  }
  Check(IsValidUtf8(QuarantineNdjson(bad)));

  // Half the records as a base, all of them as a window.
  std::vector<EntityRecord> half(records.begin(), records.begin() + static_cast<long>(records.size() / 2));
  const EntityTable base = EntityTable::Build(std::move(half));
  const EntityTable window = EntityTable::Build(records);
  for (const IndexDoc& d : BuildFullDocs(schema, base)) Check(!d.tombstone && IsValidUtf8(d.stored));
  std::string last;
  for (const IndexDoc& d : BuildDeltaDocs(schema, base, window)) {
    Check(d.id > last || last.empty());
    last = d.id;
    Check(d.tombstone ? d.stored.empty() : IsValidUtf8(d.stored));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const SchemaOptions kSmall = [] {
    SchemaOptions o = DefaultFlatSchema();
    o.max_record_bytes = 256;
    o.max_field_bytes = 32;
    return o;
  }();
  static RecordParser ads(DefaultAdsSchema());
  static RecordParser small(kSmall);
  static RecordParser small_packed(kSmall);
  static RecordParser small_reparse([] {
    SchemaOptions o = kSmall;
    o.max_record_bytes = UINT32_MAX;
    return o;
  }());
  RunSchema(ads, ads, nullptr, body);
  RunSchema(small, small_reparse, &small_packed, body);
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  return {
      R"({"type":"campaign","id":"c1","version":1,"status":"ACTIVE","campaign_name":"Summer Sale","country":"DE"})"
      "\n"
      R"({"type":"ad_group","id":"g1","version":2,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Shoes"})"
      "\n"
      R"({"type":"ad","id":"a1","version":3,"ad_group_id":"g1","status":"ACTIVE","title":"Red shoes","keywords":["x",1]})"
      "\n",
      "{\"type\":\"ad\",\"id\":\"a2\",\"version\":\"2026-11-22T14:05:00.5Z\",\"deleted\":true}\r\n\r\n"
      "{\"id\":\"x\",\"version\":1,\"title\":\"caf\\u00e9 \\ud83d\\ude00\",\"n\":[1.5e3,-0,{\"b\":null,\"a\":[]}]}",
      // The fifth campaign's find: a line within the 256-byte limit whose
      // canonical form is not (each 1e20 is written out in 23 bytes, within
      // the 32-byte field limit).
      "{\"id\":\"n\",\"version\":1,\"a\":1e20,\"b\":1e20,\"c\":1e20,\"d\":1e20,\"e\":1e20,\"f\":1e20,"
      "\"g\":1e20,\"h\":1e20,\"i\":1e20,\"j\":1e20,\"k\":1e20,\"l\":1e20}",
      // The fourth campaign's find: a zero with an exponent, then garbage.
      "0e5e61\n{\"id\":\"e\",\"version\":1,\"n\":[0e5e61]}\n{\"id\":\"f\",\"version\":1,\"n\":1e309}",
      // The third campaign's find: 2^64 - 1's digits, then one >= 5 (UB in rapidjson 1.1).
      "{\"id\":\"u\",\"version\":1,\"n\":184467440737095516158}\n18446744073709551615844674407",
      // The second campaign's find: a zero with 34 fraction digits (UB in rapidjson 1.1).
      "0.0000000000000000000000000000000000\x0f\n{\"id\":\"z\",\"version\":1,\"n\":-0.00000000000000000000000000}",
      "{\"id\":\"\xC3\xA9\",\"version\":-9,\"description\":\"\\\"q\\\" \\/ \\t\"}\n[1]\n\"s\"\n{}\n{\"id\":7}",
  };
}
