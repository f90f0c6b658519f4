#include "gen/vocabulary.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "storage/object_key.h"

namespace freshet::gen {
namespace {

TEST(VocabularyTest, SameSizeGivesSameWords) {
  Vocabulary a(5000, 1.0), b(5000, 1.0);
  ASSERT_EQ(a.size(), 5000u);
  ASSERT_EQ(b.size(), 5000u);
  std::set<std::string_view> distinct;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.at(i), b.at(i));
    distinct.insert(a.at(i));
  }
  EXPECT_EQ(distinct.size(), a.size()) << "words must be unique";
}

TEST(VocabularyTest, RealWordsSitAtFrequentRanks) {
  Vocabulary v(10000, 1.0);
  const auto& real = Vocabulary::RealWords();
  for (size_t i = 0; i < real.size(); ++i) EXPECT_EQ(v.at(4 + 6 * i), real[i]);
  EXPECT_LT(4 + 6 * real.size(), 400u);
}

TEST(VocabularyTest, TinySizeIsClampedToHoldTheRealWords) {
  Vocabulary v(1, 1.0);
  EXPECT_EQ(v.size(), 4 + 6 * Vocabulary::RealWords().size());
  EXPECT_EQ(v.at(4 + 6 * (Vocabulary::RealWords().size() - 1)), Vocabulary::RealWords().back());
}

TEST(VocabularyTest, SamplingIsZipfLike) {
  Vocabulary v(10000, 1.0);
  SeededRandom rng(3);
  std::map<std::string_view, int> counts;
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++counts[v.Sample(rng)];
  // Harmonic number H(10000) ~ 9.79: rank 0 has ~10.2%, rank 9 ~1.0%.
  EXPECT_NEAR(counts[v.at(0)] / double(n), 0.102, 0.01);
  EXPECT_NEAR(counts[v.at(9)] / double(n), 0.0102, 0.003);
  EXPECT_GT(counts[v.at(0)], counts[v.at(100)] * 20);
  EXPECT_GT(counts.size(), 4000u) << "the tail must be reachable";
}

TEST(VocabularyTest, AsciiSamplesAreLowercaseLetters) {
  Vocabulary v(2000, 1.0);
  SeededRandom rng(5);
  for (int i = 0; i < 10000; ++i) {
    std::string_view w = v.SampleAscii(rng);
    ASSERT_FALSE(w.empty());
    for (char c : w) ASSERT_TRUE(c >= 'a' && c <= 'z') << w;
  }
}

TEST(VocabularyTest, TextIsValidUtf8WithMixedCaseAndPunctuation) {
  Vocabulary v(10000, 1.0);
  SeededRandom rng(11);
  bool upper = false, punct = false, non_ascii = false, quote = false;
  for (int i = 0; i < 2000; ++i) {
    std::string t = v.Text(rng, 15, 40, /*title=*/i % 2 == 0);
    ASSERT_TRUE(IsValidUtf8(t)) << t;
    ASSERT_FALSE(t.empty());
    EXPECT_NE(t.front(), ' ');
    for (char c : t) {
      upper |= c >= 'A' && c <= 'Z';
      punct |= c == ',' || c == '!' || c == '?';
      quote |= c == '"';
      non_ascii |= static_cast<unsigned char>(c) >= 0x80;
    }
  }
  EXPECT_TRUE(upper);
  EXPECT_TRUE(punct);
  EXPECT_TRUE(quote);
  EXPECT_TRUE(non_ascii);
}

TEST(VocabularyTest, KeywordsAreSpaceSeparatedWords) {
  Vocabulary v(10000, 1.0);
  SeededRandom rng(13);
  for (int i = 0; i < 1000; ++i) {
    std::string k = v.Keyword(rng, 2);
    ASSERT_FALSE(k.empty());
    EXPECT_NE(k.front(), ' ');
    EXPECT_NE(k.back(), ' ');
    EXPECT_EQ(k.find("  "), std::string::npos);
  }
}

}  // namespace
}  // namespace freshet::gen
