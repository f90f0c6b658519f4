#include "ingest/record_projection.h"

#include <cstring>
#include <string>
#include <utility>

#include "ingest/json_text.h"

namespace freshet {
namespace {

// The catalog's names as JSON strings, each followed by ':'.
std::vector<std::string> QuotedNames(const BuildSchema& schema) {
  std::vector<std::string> names(schema.fields.size());
  for (size_t f = 0; f < names.size(); ++f) {
    AppendJsonString(&names[f], schema.fields[f]);
    names[f].push_back(':');
  }
  return names;
}

// The size of r's projected JSON.
size_t ProjectedSize(const EntityRecord& r, const std::vector<std::string>& names) {
  size_t bytes = 2, members = 0;
  for (size_t f = 0; f < r.fields.size() && f < names.size(); ++f) {
    if (!r.fields[f].present()) continue;
    bytes += names[f].size() + r.fields[f].length;
    ++members;
  }
  return bytes + (members > 1 ? members - 1 : 0);
}

// Writes r's projected JSON at `out` (ProjectedSize bytes) and points r's
// spans into it; returns the bytes written.
size_t WriteProjected(EntityRecord* r, const std::vector<std::string>& names, char* out) {
  const std::string_view from = r->json();
  size_t n = 0;
  out[n++] = '{';
  for (size_t f = 0; f < r->fields.size() && f < names.size(); ++f) {
    ValueSpan& span = r->fields[f];
    if (!span.present()) continue;
    if (n > 1) out[n++] = ',';
    std::memcpy(out + n, names[f].data(), names[f].size());
    n += names[f].size();
    std::memcpy(out + n, from.data() + span.offset, span.length);
    span.offset = static_cast<uint32_t>(n);
    n += span.length;
  }
  out[n++] = '}';
  for (size_t f = names.size(); f < r->fields.size(); ++f) r->fields[f] = {};  // none: parallel to the catalog
  std::string().swap(r->source);
  return n;
}

}  // namespace

void ProjectToKept(EntityRecord* r, const BuildSchema& schema) {
  const std::vector<std::string> names = QuotedNames(schema);
  std::string json(ProjectedSize(*r, names), '\0');
  WriteProjected(r, names, json.data());
  r->SetJson(std::move(json));
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
    const EntityRecord::PackedHeader header{.present = present};
    std::memcpy(at, &header, sizeof header);
    char* span_at = at + sizeof header;
    char* values = at + prefix;
    const std::string_view from = r.json();
    uint32_t n = 0;
    for (size_t f = 0; f < r.fields.size() && f < catalog; ++f) {
      const ValueSpan span = r.fields[f];
      if (!span.present()) continue;
      const ValueSpan moved{n, span.length};
      std::memcpy(span_at, &moved, sizeof moved);
      span_at += sizeof moved;
      std::memcpy(values + n, from.data() + span.offset, span.length);
      n += span.length;
    }
    r.Pack(at, n);
    std::string().swap(r.source);
    at += entry_size(prefix, n);
  }
  return arena;
}

}  // namespace freshet
