// Random queries over the words and values of a generated data set, for
// comparing `freshet query` with the GroundTruth oracle.
//
// Each query has 1-3 clauses, AND-ed or (about a third of the time) OR-ed.
// Clause kinds: bare words as written in the input (non-ASCII included)
// with their ASCII letters' case scrambled; `field:value` on keyword fields
// (country, campaign_id, keywords, ...), exact; `field:word` on text fields
// (mostly title); and now and then a word or value that exists nowhere.
// Half the queries draw most clauses from one servable document, so that
// AND-ed clauses have answers too.
// Deterministic for a seed (own PRNG, no std distributions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "e2e/ground_truth.h"

namespace freshet::e2e {

struct SampledQuery {
  std::vector<std::string> clauses;
  bool any = false;
  std::string Describe() const;  // as on the command line
};

class QuerySampler {
 public:
  // REQUIRES: truth outlives the sampler and has words to draw from.
  QuerySampler(const GroundTruth& truth, uint64_t seed);

  SampledQuery Next();

 private:
  uint64_t Below(uint64_t n);  // uniform in [0, n)
  std::string Clause();
  std::string ClauseFrom(const OracleDoc& doc);
  std::string WordFrom(const std::vector<std::string>& words);
  std::string ScrambleCase(const std::string& word);

  const GroundTruth& truth_;
  uint64_t state_;
  std::vector<std::string> text_fields_;     // those with words
  std::vector<std::string> keyword_fields_;  // those with values
  std::vector<std::string> all_words_;
};

}  // namespace freshet::e2e
