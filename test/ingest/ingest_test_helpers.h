// Shared fixtures for the build module's tests: parse NDJSON text into
// records and tables, and print documents compactly for assertions.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/doc_assembler.h"
#include "ingest/entity_table.h"
#include "ingest/record_parser.h"
#include "config/options.h"

namespace freshet::testing_build {

// Parses `ndjson` as one object named `source`; every line must be good.
inline std::vector<EntityRecord> ParseAll(const SchemaOptions& schema, std::string_view ndjson,
                                          std::string_view source = "obj") {
  RecordParser parser(schema);
  std::vector<EntityRecord> records;
  std::vector<QuarantineEntry> bad;
  parser.ParseObject(source, ndjson, &records, &bad);
  for (const auto& b : bad) ADD_FAILURE() << "line " << b.line << ": " << b.reason << " | " << b.excerpt;
  return records;
}

inline EntityTable Table(const SchemaOptions& schema, std::string_view ndjson, std::string_view source = "obj") {
  return EntityTable::Build(ParseAll(schema, ndjson, source));
}

// Joins a term's field and value with '=' for readable expectations.
inline std::string ShowTerm(std::string_view term) {
  std::string s(term);
  const size_t nul = s.find('\0');
  if (nul != std::string::npos) s[nul] = '=';
  return s;
}

inline std::vector<std::string> ShowTerms(const IndexDoc& doc) {
  std::vector<std::string> out;
  for (const auto& t : doc.terms) out.push_back(ShowTerm(t));
  return out;
}

// id -> "TOMBSTONE" or the stored JSON.
inline std::map<std::string, std::string> Stored(const std::vector<IndexDoc>& docs) {
  std::map<std::string, std::string> out;
  for (const auto& d : docs) out[d.id] = d.tombstone ? "TOMBSTONE" : d.stored;
  return out;
}

inline std::vector<std::string> Ids(const std::vector<IndexDoc>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.tombstone ? d.id + "(x)" : d.id);
  return out;
}

}  // namespace freshet::testing_build
