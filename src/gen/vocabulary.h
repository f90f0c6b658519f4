// The generator's word list and the text it assembles from it.
//
// Words follow a Zipf-like law (rank r drawn with weight 1/(r+1)^s), like
// real ad text: a few words in most documents, a long tail in few. That
// shape matters to the index (posting-list lengths, dictionary size).
// The list is synthetic syllable words plus a fixed set of real words,
// many non-ASCII or in forms that only match after NFKC and case folding
// ("ｆｕｌｌｗｉｄｔｈ", "ﬁnance", "Straße", decomposed "café"), placed at
// frequent ranks so that queries over them have answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gen/seeded_random.h"

namespace freshet::gen {

class Vocabulary {
 public:
  // Builds `size` words (at least 4 + 6 * RealWords().size(), so that every
  // real word has its fixed rank).
  // Depends only on `size` and `zipf_exponent`, not on any seed: every run
  // of the generator shares one dictionary, so a word seen in one data set
  // is a meaningful query in another.
  // REQUIRES: zipf_exponent > 0.
  Vocabulary(uint32_t size, double zipf_exponent);

  // A word drawn by Zipf rank.
  std::string_view Sample(SeededRandom& rng) const;
  // An ASCII-only lowercase synthetic word, Zipf-distributed among those
  // (for URLs and host names, which must stay ASCII).
  std::string_view SampleAscii(SeededRandom& rng) const;

  size_t size() const { return words_.size(); }
  // The word at Zipf rank `rank` (0 = most frequent).
  std::string_view at(size_t rank) const { return words_[rank]; }

  // The fixed real words mixed into the vocabulary (for tests and docs).
  static const std::vector<std::string_view>& RealWords();

  // Free text of `min_words..max_words` words with mixed case and
  // punctuation. `title` capitalizes most words and adds little
  // punctuation; otherwise sentence-like.
  std::string Text(SeededRandom& rng, int min_words, int max_words, bool title) const;

  // A phrase of 1..max_words words joined by single spaces, no added case
  // changes or punctuation: ad keywords.
  std::string Keyword(SeededRandom& rng, int max_words) const;

 private:
  // Draws index i of n with weight 1/(rank(i)+1)^s. The result is exactly
  // upper_bound(cdf, u * total) (so the output format does not depend on
  // the search method); a guide table makes it O(1) on average instead of
  // a binary search over a cache-unfriendly array.
  class ZipfTable {
   public:
    ZipfTable() = default;
    // ranks: the Zipf rank of each index; nullptr = the index itself.
    ZipfTable(size_t n, double s, const std::vector<uint32_t>* ranks);
    size_t Sample(SeededRandom& rng) const;

   private:
    std::vector<double> cdf_;      // cumulative weights
    std::vector<uint32_t> guide_;  // guide_[k]: upper_bound of k/size * total
  };

  std::vector<std::string> words_;
  ZipfTable zipf_;
  std::vector<uint32_t> ascii_ranks_;  // ranks of the [a-z]+ words, ascending
  ZipfTable ascii_zipf_;
};

}  // namespace freshet::gen
