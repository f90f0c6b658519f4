#include "reader/query_eval.h"

#include <algorithm>
#include <iterator>

#include "index/index_doc.h"
#include "index/tokenizer.h"

namespace freshet {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string Describe(const QueryClause& c) { return c.field.empty() ? c.value : c.field + ":" + c.value; }

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Result<std::vector<std::string>> Tokens(const QueryClause& c) {
  Result<std::vector<std::string>> tokens = Tokenize(c.value);
  if (!tokens.ok()) return tokens.status().WithContext("query clause '" + Describe(c) + "'");
  if (tokens->empty()) {
    return Status::InvalidArgument("query clause '" + Describe(c) + "' has no letters or digits to match");
  }
  // Duplicates add nothing to an AND of tokens.
  std::sort(tokens->begin(), tokens->end());
  tokens->erase(std::unique(tokens->begin(), tokens->end()), tokens->end());
  return tokens;
}

// Postings of any of `terms`.
Result<std::vector<uint32_t>> AnyOf(const SegmentReader& segment, const std::vector<std::string>& terms) {
  std::vector<uint32_t> out;
  for (const std::string& term : terms) {
    FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, segment.Postings(term));
    out = out.empty() ? std::move(docs) : UnionSorted(out, docs);
  }
  return out;
}

Result<std::vector<uint32_t>> MatchClause(const SegmentReader& segment, const AnalyzedClause& clause) {
  std::vector<uint32_t> out;
  bool first = true;
  for (const auto& group : clause.all_of_any) {
    FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, AnyOf(segment, group));
    out = first ? std::move(docs) : IntersectSorted(out, docs);
    first = false;
    if (out.empty()) break;
  }
  return out;
}

}  // namespace

bool FieldKinds::IsText(std::string_view field) const { return Contains(text, field); }
bool FieldKinds::IsKeyword(std::string_view field) const { return Contains(keyword, field); }

Result<AnalyzedQuery> AnalyzeQuery(const Query& query, const FieldKinds& kinds) {
  if (query.clauses.empty()) return Status::InvalidArgument("empty query: give at least one clause");
  AnalyzedQuery out;
  out.any = query.any;
  for (const QueryClause& c : query.clauses) {
    AnalyzedClause a;
    if (c.field.empty()) {
      if (kinds.text.empty()) {
        return Status::InvalidArgument("query word '" + c.value + "': the index has no text fields");
      }
      FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> tokens, Tokens(c));
      for (const std::string& token : tokens) {
        std::vector<std::string> group;
        for (const std::string& field : kinds.text) group.push_back(MakeTerm(field, token));
        a.all_of_any.push_back(std::move(group));
      }
    } else if (kinds.IsKeyword(c.field)) {
      a.all_of_any.push_back({MakeTerm(c.field, c.value)});
    } else if (kinds.IsText(c.field)) {
      FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> tokens, Tokens(c));
      for (const std::string& token : tokens) a.all_of_any.push_back({MakeTerm(c.field, token)});
    } else {
      return Status::InvalidArgument("query clause '" + Describe(c) + "': unknown field '" + c.field +
                                     "' (text fields: " + JoinNames(kinds.text) +
                                     "; keyword fields: " + JoinNames(kinds.keyword) + ")");
    }
    out.clauses.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<uint32_t>> MatchDocs(const SegmentReader& segment, const AnalyzedQuery& query) {
  std::vector<uint32_t> out;
  bool first = true;
  for (const AnalyzedClause& clause : query.clauses) {
    if (!query.any && !first && out.empty()) break;
    FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, MatchClause(segment, clause));
    if (first) {
      out = std::move(docs);
    } else {
      out = query.any ? UnionSorted(out, docs) : IntersectSorted(out, docs);
    }
    first = false;
  }
  return out;
}

std::vector<uint32_t> IntersectSorted(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint32_t> UnionSorted(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace freshet
