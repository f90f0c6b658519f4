#include "e2e/query_sampler.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

namespace freshet::e2e {
namespace {

// A bare word must parse as one clause with at least one token.
bool UsableWord(const std::string& w) { return w.find(':') == std::string::npos && !TokenSet(w).empty(); }

}  // namespace

std::string SampledQuery::Describe() const {
  std::string out = any ? "--any" : "";
  for (const std::string& c : clauses) {
    if (!out.empty()) out += ' ';
    out += '\'' + c + '\'';
  }
  return out;
}

QuerySampler::QuerySampler(const GroundTruth& truth, uint64_t seed)
    : truth_(truth), state_(seed * 0x9E3779B97F4A7C15ULL + 1) {
  for (const auto& [field, words] : truth.text_words()) {
    if (words.empty()) continue;
    text_fields_.push_back(field);
    for (const std::string& w : words) {
      if (UsableWord(w)) all_words_.push_back(w);
    }
  }
  for (const auto& [field, values] : truth.keyword_values()) {
    if (!values.empty()) keyword_fields_.push_back(field);
  }
  std::sort(all_words_.begin(), all_words_.end());
  all_words_.erase(std::unique(all_words_.begin(), all_words_.end()), all_words_.end());
}

uint64_t QuerySampler::Below(uint64_t n) {
  // splitmix64
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return n == 0 ? 0 : z % n;
}

std::string QuerySampler::ScrambleCase(const std::string& word) {
  std::string out = word;
  switch (Below(4)) {
    case 0: break;  // as written
    case 1:
      for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      break;
    default:
      for (char& c : out) {
        if (Below(2) == 0) continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      break;
  }
  return out;
}

std::string QuerySampler::WordFrom(const std::vector<std::string>& words) {
  // Prefer usable words; a few tries, then fall back to any usable word.
  for (int i = 0; i < 16 && !words.empty(); ++i) {
    const std::string& w = words[Below(words.size())];
    if (UsableWord(w)) return w;
  }
  return all_words_[Below(all_words_.size())];
}

std::string QuerySampler::Clause() {
  const uint64_t kind = Below(100);
  if (kind < 35 || (kind < 55 && keyword_fields_.empty())) {  // bare word, case scrambled
    return ScrambleCase(all_words_[Below(all_words_.size())]);
  }
  if (kind < 45) {  // bare word: a non-ASCII one when there is one
    for (int i = 0; i < 32; ++i) {
      const std::string& w = all_words_[Below(all_words_.size())];
      if (std::any_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        return ScrambleCase(w);
      }
    }
    return all_words_[Below(all_words_.size())];
  }
  if (kind < 75) {  // keyword field, exact value
    const std::string& field = keyword_fields_[Below(keyword_fields_.size())];
    const auto& values = truth_.keyword_values().at(field);
    return field + ":" + values[Below(values.size())];
  }
  if (kind < 94) {  // text field: mostly title
    std::string field = Below(3) != 0 ? "title" : text_fields_[Below(text_fields_.size())];
    auto it = truth_.text_words().find(field);
    const std::vector<std::string> none;
    return field + ":" + ScrambleCase(WordFrom(it == truth_.text_words().end() ? none : it->second));
  }
  // Matches nothing (unless the generator starts writing these).
  switch (Below(3)) {
    case 0: return "zqxjnotaword" + std::to_string(Below(1000));
    case 1: return "country:ZZ";
    default: return "title:Qqqzzyx";
  }
}

std::string QuerySampler::ClauseFrom(const OracleDoc& doc) {
  // Draws from one servable document, so an AND of these matches it.
  std::vector<std::pair<const std::string*, const std::set<std::string>*>> text, keyword;
  for (const auto& [field, tokens] : doc.tokens) {
    if (!tokens.empty()) text.push_back({&field, &tokens});
  }
  for (const auto& [field, values] : doc.keywords) {
    if (!values.empty()) keyword.push_back({&field, &values});
  }
  auto pick = [&](const std::set<std::string>& set) {
    auto it = set.begin();
    std::advance(it, Below(set.size()));
    return *it;
  };
  const uint64_t kind = Below(3);
  if (kind == 0 && !keyword.empty()) {
    const auto& [field, values] = keyword[Below(keyword.size())];
    return *field + ":" + pick(*values);
  }
  if (text.empty()) return Clause();
  const auto& [field, tokens] = text[Below(text.size())];
  std::string token = ScrambleCase(pick(*tokens));
  return kind == 1 ? *field + ":" + token : token;
}

SampledQuery QuerySampler::Next() {
  SampledQuery q;
  const uint64_t n = 1 + Below(3);
  const bool anchored = !truth_.docs().empty() && Below(2) == 0;
  const OracleDoc* doc = anchored ? &truth_.docs()[Below(truth_.docs().size())] : nullptr;
  for (uint64_t i = 0; i < n; ++i) q.clauses.push_back(doc != nullptr && Below(5) != 0 ? ClauseFrom(*doc) : Clause());
  q.any = n > 1 && Below(3) == 0;
  return q;
}

}  // namespace freshet::e2e
