// Query analysis and evaluation over one segment: the pure core of
// Reader::Search (see include/freshet/reader.h for the semantics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/reader.h"
#include "freshet/status.h"
#include "index/segment_reader.h"

namespace freshet {

// Which fields were indexed as tokens (text) and which as exact values
// (keyword). A field is never both (config validation).
struct FieldKinds {
  std::vector<std::string> text;
  std::vector<std::string> keyword;
  bool IsText(std::string_view field) const;
  bool IsKeyword(std::string_view field) const;
};

// A clause reduced to terms (MakeTerm): it matches a doc when, for every
// group, the doc has at least one of the group's terms.
struct AnalyzedClause {
  std::vector<std::vector<std::string>> all_of_any;
};

struct AnalyzedQuery {
  std::vector<AnalyzedClause> clauses;
  bool any = false;
};

// Tokenizes bare words and text values, resolves fields. kInvalidArgument
// naming the clause for an empty query, an unknown field, a bare word when
// no text field exists, or a value without tokens.
Result<AnalyzedQuery> AnalyzeQuery(const Query& query, const FieldKinds& kinds);

// The doc numbers of `segment` matching `query`, ascending. Tombstones
// never match (they have no terms).
Result<std::vector<uint32_t>> MatchDocs(const SegmentReader& segment, const AnalyzedQuery& query);

// Sorted-set helpers (inputs ascending and unique; so are outputs).
std::vector<uint32_t> IntersectSorted(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
std::vector<uint32_t> UnionSorted(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);

}  // namespace freshet
