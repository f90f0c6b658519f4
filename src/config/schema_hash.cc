#include "config/schema_hash.h"

#include <xxhash.h>

#include <cstdio>
#include <string_view>
#include <vector>

namespace freshet {
namespace {

void Put(std::string* out, std::string_view key, std::string_view value) {
  out->append(key);
  out->push_back('=');
  out->append(std::to_string(value.size()));
  out->push_back(':');
  out->append(value);
  out->push_back('\n');
}

void PutList(std::string* out, std::string_view key, const std::vector<std::string>& values) {
  out->append(key);
  out->push_back('#');
  out->append(std::to_string(values.size()));
  out->push_back('\n');
  for (const auto& v : values) Put(out, "-", v);
}

}  // namespace

std::string CanonicalSchemaText(const SchemaOptions& s) {
  std::string out = "freshet.schema.v1\n";
  Put(&out, "id_field", s.id_field);
  Put(&out, "version_field", s.version_field);
  Put(&out, "deleted_field", s.deleted_field);
  Put(&out, "type_field", s.type_field);
  Put(&out, "group_field", s.group_field);
  out += "levels#" + std::to_string(s.levels.size()) + "\n";
  for (const LevelOptions& l : s.levels) {
    Put(&out, "name", l.name);
    Put(&out, "parent_field", l.parent_field);
    Put(&out, "status_field", l.status_field);
    PutList(&out, "active_values", l.active_values);
    PutList(&out, "inherit", l.inherit);
  }
  PutList(&out, "text_fields", s.text_fields);
  PutList(&out, "keyword_fields", s.keyword_fields);
  PutList(&out, "stored_fields", s.stored_fields);
  Put(&out, "max_field_bytes", std::to_string(s.max_field_bytes));
  Put(&out, "max_record_bytes", std::to_string(s.max_record_bytes));
  return out;
}

std::string SchemaHash(const SchemaOptions& schema) {
  const std::string text = CanonicalSchemaText(schema);
  unsigned long long h = XXH64(text.data(), text.size(), 0);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", h);
  return buf;
}

}  // namespace freshet
