#include "ingest/record_projection.h"

#include <string>
#include <utility>

#include "ingest/json_text.h"

namespace freshet {

void ProjectToKept(EntityRecord* r, const BuildSchema& schema) {
  size_t bytes = 2;
  for (size_t f = 0; f < r->fields.size() && f < schema.fields.size(); ++f) {
    if (r->fields[f].present()) bytes += schema.fields[f].size() + 4 + r->fields[f].length;
  }
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
    json.append(r->fields_json, span.offset, span.length);
    span = moved;
  }
  json.push_back('}');
  for (size_t f = schema.fields.size(); f < r->fields.size(); ++f) r->fields[f] = {};  // none: parallel to the catalog
  r->fields_json = std::move(json);
  std::string().swap(r->source);
}

}  // namespace freshet
