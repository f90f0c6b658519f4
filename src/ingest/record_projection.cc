#include "ingest/record_projection.h"

#include <cstring>
#include <string>
#include <utility>

#include "ingest/json_text.h"

namespace freshet {

void ProjectToKept(EntityRecord* r, const BuildSchema& schema) {
  size_t bytes = 2;
  for (size_t f = 0; f < r->fields.size() && f < schema.fields.size(); ++f) {
    if (r->fields[f].present()) bytes += schema.fields[f].size() + 4 + r->fields[f].length;
  }
  const std::string_view from = r->json();
  std::string json;
  json.reserve(bytes);
  json.push_back('{');
  for (size_t f = 0; f < r->fields.size() && f < schema.fields.size(); ++f) {
    ValueSpan& span = r->fields[f];
    if (!span.present()) continue;
    if (json.size() > 1) json.push_back(',');
    AppendJsonString(&json, schema.fields[f]);
    json.push_back(':');
    const ValueSpan moved{static_cast<uint32_t>(json.size()), span.length};
    json.append(from.substr(span.offset, span.length));
    span = moved;
  }
  json.push_back('}');
  for (size_t f = schema.fields.size(); f < r->fields.size(); ++f) r->fields[f] = {};  // none: parallel to the catalog
  r->SetJson(std::move(json));
  std::string().swap(r->source);
}

std::unique_ptr<char[]> ProjectIntoArena(std::vector<EntityRecord>* records, const BuildSchema& schema) {
  const size_t catalog = schema.fields.size();
  if (catalog > 64) {  // more than a packed entry's mask can name: each record its own
    for (EntityRecord& r : *records) ProjectToKept(&r, schema);
    return nullptr;
  }
  auto present_of = [catalog](const EntityRecord& r) {
    uint64_t present = 0;
    for (size_t f = 0; f < r.fields.size() && f < catalog; ++f) {
      if (r.fields[f].present()) present |= uint64_t{1} << f;
    }
    return present;
  };
  auto values_of = [catalog](const EntityRecord& r) {
    size_t bytes = 0;
    for (size_t f = 0; f < r.fields.size() && f < catalog; ++f) bytes += r.fields[f].length;
    return bytes;
  };
  auto entry_size = [](size_t prefix, size_t values) { return (prefix + values + 7) / 8 * 8; };  // 8-aligned entries
  size_t total = 0;
  for (const EntityRecord& r : *records) total += entry_size(EntityRecord::PackedPrefix(present_of(r)), values_of(r));
  auto arena = std::make_unique_for_overwrite<char[]>(total == 0 ? 1 : total);
  char* at = arena.get();
  for (EntityRecord& r : *records) {
    const uint64_t present = present_of(r);
    const size_t prefix = EntityRecord::PackedPrefix(present);
    const uint32_t n = EntityRecord::WriteEntry(at, present, [&r](size_t f) { return r.field(f); });
    r.Pack(at, n);
    std::string().swap(r.source);
    at += entry_size(prefix, n);
  }
  return arena;
}

}  // namespace freshet
