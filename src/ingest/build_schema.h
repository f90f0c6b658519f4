// The schema as the build module uses it: SchemaOptions resolved once into
// levels, an interned field catalog and per-level index lists, so the hot
// paths (record parsing, document assembly) never look names up in maps.
//
// The parser and the assembler each compile the same SchemaOptions; the
// catalog is a pure function of the options, so an EntityRecord's `fields`
// vector (parallel to `fields` below) means the same thing to both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"

namespace freshet {

struct BuildSchema {
  SchemaOptions options;

  // options.levels, or one implicit level (no parent, no status, no inherit)
  // when the schema is flat. Never empty; the last level is the document.
  std::vector<LevelOptions> levels;
  uint16_t leaf = 0;  // levels.size() - 1

  // True when the level comes from options.type_field. False for a flat
  // schema (options.levels empty: type_field is ignored) and for a
  // one-level schema without a type_field: every record is then level 0.
  // A multi-level schema without a type_field cannot place any record; each
  // is quarantined as "unknown type" (config validation should reject it).
  bool typed = false;
  bool placeable = true;

  // The field catalog: sorted, unique names of every text, keyword and
  // stored field and every level's inherit list. EntityRecord::fields is
  // parallel to it.
  std::vector<std::string> fields;

  // Catalog indices. text/keyword/stored keep config order without
  // duplicates; stored never contains the literal "id" (always written
  // first by the assembler).
  std::vector<uint32_t> text;
  std::vector<uint32_t> keyword;
  std::vector<uint32_t> stored;

  // Per level: inherit[level][f] is true when catalog field f of a record at
  // that level is copied into descendant documents.
  std::vector<std::vector<bool>> inherit;
  // Per level: the catalog fields a record at that level keeps (the leaf:
  // text, keyword and stored fields; other levels: their inherit list).
  std::vector<std::vector<bool>> kept;
  // Per level: the kept fields whose type is checked (text must be a string,
  // keyword a string/number/array of those).
  std::vector<std::vector<uint32_t>> text_checked;
  std::vector<std::vector<uint32_t>> keyword_checked;

  // Catalog index of `name`, or -1.
  int FieldIndex(std::string_view name) const;
  // Level whose name is `type`, or -1 (first match wins on duplicate names).
  int LevelIndex(std::string_view type) const;
};

// Never fails: schema errors that make records unplaceable surface as
// quarantined records (see BuildSchema::placeable); ValidateOptions is the
// place that rejects such configs up front.
BuildSchema CompileBuildSchema(const SchemaOptions& options);

}  // namespace freshet
