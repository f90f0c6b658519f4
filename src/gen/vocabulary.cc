#include "gen/vocabulary.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace freshet::gen {
namespace {

// Syllable parts for synthetic words: 30 onsets x 10 nuclei x 10 codas.
constexpr std::string_view kOnsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",
                                        "n",  "p",  "r",  "s",  "t",  "v",  "w",  "z",  "br", "ch",
                                        "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"};
constexpr std::string_view kNuclei[] = {"a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"};
constexpr std::string_view kCodas[] = {"", "n", "r", "s", "l", "m", "t", "x", "nd", "st"};

// The seed of the dictionary itself; never derived from the user's seed.
constexpr uint64_t kVocabularySeed = 0x66726573686574ULL;  // "freshet"

bool IsLowerAsciiWord(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Upper-cases ASCII letters in out[begin, end), or only out[begin] when
// `first_only`; other bytes, including UTF-8 sequences, are left alone.
void UpperAscii(std::string* out, size_t begin, size_t end, bool first_only) {
  for (size_t i = begin; i < (first_only ? std::min(end, begin + 1) : end); ++i) {
    char& c = (*out)[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
}

}  // namespace

Vocabulary::ZipfTable::ZipfTable(size_t n, double s, const std::vector<uint32_t>* ranks) : cdf_(n), guide_(n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double rank = ranks ? (*ranks)[i] : static_cast<double>(i);
    sum += 1.0 / std::pow(rank + 1.0, s);
    cdf_[i] = sum;
  }
  size_t i = 0;
  for (size_t k = 0; k < n; ++k) {
    double bucket_start = static_cast<double>(k) / static_cast<double>(n) * sum;
    while (i < n && cdf_[i] <= bucket_start) ++i;
    guide_[k] = static_cast<uint32_t>(std::min(i, n - 1));
  }
}

size_t Vocabulary::ZipfTable::Sample(SeededRandom& rng) const {
  const size_t n = cdf_.size();
  double u = rng.Unit();
  double x = u * cdf_.back();
  size_t i = guide_[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
  // The guide is a hint; these two walks make the result exactly
  // upper_bound(cdf_, x) whatever the rounding.
  while (i > 0 && cdf_[i - 1] > x) --i;
  while (i + 1 < n && cdf_[i] <= x) ++i;
  return i;
}

const std::vector<std::string_view>& Vocabulary::RealWords() {
  // Chosen so that tokenizer normalization is exercised: accents (composed
  // and decomposed), ß, Turkish dotted İ, final sigma, ligatures, fullwidth
  // and halfwidth forms, circled digits, CJK, Cyrillic, Greek, Arabic,
  // Devanagari, Hangul, an emoji outside the BMP, and some plain English ad
  // words. Append only: positions set the Zipf ranks of existing data sets.
  static const std::vector<std::string_view> kWords = {
      "sale",       "free",        "shipping",    "café",        "Straße",     "naïve",
      "東京",       "москва",      "ελλάδα",      "ｆｕｌｌｗｉｄｔｈ", "ﬁnance",    "cafe\u0301",
      "résumé",     "München",     "Zürich",      "crème",       "brûlée",     "jalapeño",
      "smörgåsbord", "İstanbul",   "ΣΟΦΙΑ",       "ｓａｌｅ",    "ＳＡＬＥ",   "①",
      "Ⅻ",          "北京",        "大阪",        "ソニー",      "ｶﾀｶﾅ",       "서울",
      "بيروت",      "दिल्ली",      "Kraków",      "ŁÓDŹ",        "Ærø",        "øresund",
      "wi-fi",      "e-mail",      "24/7",        "100%",        "$9.99",      "🚀",
      "deal",       "premium",     "organic",     "discount",    "delivery",   "official",
      "new",        "best",        "cheap",       "luxury",      "limited",    "offer"};
  return kWords;
}

Vocabulary::Vocabulary(uint32_t size, double zipf_exponent) {
  const auto& real = RealWords();
  // Real words are interleaved at frequent ranks: real word i goes to rank
  // 4 + 6*i, so all of them sit in the top ~330, and the size is at least
  // enough to hold them all there.
  size_t target = std::max<size_t>(size, 4 + 6 * real.size());

  std::vector<std::string> synthetic;
  std::unordered_set<std::string> seen;
  for (std::string_view w : real) seen.emplace(w);
  SeededRandom rng(kVocabularySeed);
  while (synthetic.size() < target - real.size()) {
    uint64_t roll = rng.Below(10);
    int syllables = roll < 2 ? 1 : roll < 7 ? 2 : 3;
    std::string w;
    for (int s = 0; s < syllables; ++s) {
      w += kOnsets[rng.Below(std::size(kOnsets))];
      w += kNuclei[rng.Below(std::size(kNuclei))];
      w += kCodas[rng.Below(std::size(kCodas))];
    }
    if (seen.insert(w).second) synthetic.push_back(std::move(w));
  }
  words_.reserve(target);
  size_t next_real = 0, next_synthetic = 0;
  for (size_t rank = 0; rank < target; ++rank) {
    if (next_real < real.size() && rank == 4 + 6 * next_real) {
      words_.emplace_back(real[next_real++]);
    } else {
      words_.push_back(std::move(synthetic[next_synthetic++]));
    }
  }

  zipf_ = ZipfTable(words_.size(), zipf_exponent, nullptr);
  for (uint32_t r = 0; r < words_.size(); ++r) {
    if (IsLowerAsciiWord(words_[r])) ascii_ranks_.push_back(r);
  }
  ascii_zipf_ = ZipfTable(ascii_ranks_.size(), zipf_exponent, &ascii_ranks_);
}

std::string_view Vocabulary::Sample(SeededRandom& rng) const { return words_[zipf_.Sample(rng)]; }

std::string_view Vocabulary::SampleAscii(SeededRandom& rng) const {
  return words_[ascii_ranks_[ascii_zipf_.Sample(rng)]];
}

std::string Vocabulary::Text(SeededRandom& rng, int min_words, int max_words, bool title) const {
  static constexpr std::string_view kTrailing[] = {",", ".", "!", "?", ":", ";", " -", " &", " /", "'s", "..."};
  int n = static_cast<int>(rng.Between(min_words, max_words));
  std::string out;
  out.reserve(static_cast<size_t>(n) * 10);
  bool sentence_start = true;
  for (int i = 0; i < n; ++i) {
    std::string_view w = Sample(rng);
    uint64_t roll = rng.Below(100);
    // Occasionally quote or parenthesize a word: quotes must be escaped in
    // JSON and stripped by the tokenizer.
    uint64_t wrap = rng.Below(100);
    if (i) out.push_back(' ');
    if (wrap < 2) out.push_back('"');
    if (wrap == 2) out.push_back('(');
    size_t begin = out.size();
    out.append(w);
    if (roll < 4) {
      UpperAscii(&out, begin, out.size(), /*first_only=*/false);
    } else if (title ? roll < 70 : (sentence_start || roll < 12)) {
      UpperAscii(&out, begin, out.size(), /*first_only=*/true);
    }
    if (wrap < 2) out.push_back('"');
    if (wrap == 2) out.push_back(')');
    sentence_start = false;
    if (i + 1 < n && rng.Chance(title ? 0.04 : 0.12)) {
      std::string_view p = kTrailing[rng.Below(std::size(kTrailing))];
      out += p;
      sentence_start = p == "." || p == "!" || p == "?";
    }
  }
  if (!title) out += rng.Chance(0.8) ? "." : "!";
  return out;
}

std::string Vocabulary::Keyword(SeededRandom& rng, int max_words) const {
  int n = static_cast<int>(rng.Between(1, max_words));
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out.push_back(' ');
    out += Sample(rng);
  }
  return out;
}

}  // namespace freshet::gen
