#include "index/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace freshet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Tok(std::string_view s) {
  auto r = Tokenize(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(TokenizerTest, Ascii) {
  EXPECT_THAT(Tok("Hello World 42"), ElementsAre("hello", "world", "42"));
  EXPECT_THAT(Tok("abc123def"), ElementsAre("abc123def"));
  EXPECT_THAT(Tok("a a a"), ElementsAre("a", "a", "a"));
}

TEST(TokenizerTest, EmptyAndSeparatorsOnly) {
  EXPECT_THAT(Tok(""), IsEmpty());
  EXPECT_THAT(Tok("  ,.;!? \t\n"), IsEmpty());
  EXPECT_THAT(Tok(std::string("\0\0", 2)), IsEmpty());
}

TEST(TokenizerTest, Punctuation) {
  EXPECT_THAT(Tok("don't stop-me, now!"), ElementsAre("don", "t", "stop", "me", "now"));
  EXPECT_THAT(Tok("e-mail: foo@bar.com"), ElementsAre("e", "mail", "foo", "bar", "com"));
  EXPECT_THAT(Tok("a_b"), ElementsAre("a", "b"));
}

TEST(TokenizerTest, CaseFoldingSharpS) {
  EXPECT_THAT(Tok("Straße"), ElementsAre("strasse"));
  EXPECT_THAT(Tok("STRASSE"), ElementsAre("strasse"));
}

TEST(TokenizerTest, FullWidthNfkc) {
  EXPECT_THAT(Tok("ＡＢＣ１"), ElementsAre("abc1"));
  EXPECT_THAT(Tok("ＡＢＣ１ def"), ElementsAre("abc1", "def"));
}

TEST(TokenizerTest, Ligature) { EXPECT_THAT(Tok("ﬁne"), ElementsAre("fine")); }

TEST(TokenizerTest, Accents) {
  EXPECT_THAT(Tok("Café"), ElementsAre("café"));
  // Decomposed e + combining acute composes to the same token.
  EXPECT_THAT(Tok("Cafe\xCC\x81"), ElementsAre("café"));
}

TEST(TokenizerTest, GreekCyrillicCjk) {
  EXPECT_THAT(Tok("ΑΘΗΝΑ Αθήνα"), ElementsAre("αθηνα", "αθήνα"));
  EXPECT_THAT(Tok("Москва, РОССИЯ"), ElementsAre("москва", "россия"));
  EXPECT_THAT(Tok("東京タワー 2024"), ElementsAre("東京タワー", "2024"));
  EXPECT_THAT(Tok("中文。日本語"), ElementsAre("中文", "日本語"));
}

TEST(TokenizerTest, SymbolsSeparate) {
  EXPECT_THAT(Tok("price€10 ©acme ★star"), ElementsAre("price", "10", "acme", "star"));
  EXPECT_THAT(Tok("x\xF0\x9F\x98\x80y"), ElementsAre("x", "y"));  // emoji
}

TEST(TokenizerTest, NumbersOtherCategories) {
  // Superscript two is No; NFKC maps it to '2'.
  EXPECT_THAT(Tok("x²"), ElementsAre("x2"));
  // Roman numeral Ⅻ (Nl) maps to "xii" under NFKC + casefold.
  EXPECT_THAT(Tok("Ⅻ"), ElementsAre("xii"));
}

TEST(TokenizerTest, InvalidUtf8NamesOffset) {
  auto r = Tokenize("ok\xC3");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("offset 2"));

  r = Tokenize("abc\xFFxyz");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("offset 3"));
}

TEST(TokenizerTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Straße 東京 \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                 // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));             // overlong
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));             // surrogate D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));         // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\x80"));                     // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));                 // truncated
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));             // bad continuation
}

TEST(TokenizerTest, AsciiFastPathMatchesUnicodePath) {
  // Appending a non-ASCII separator forces the utf8proc path; the ASCII
  // tokens must come out the same.
  const std::string ascii = "The QUICK brown-fox, 123 jumps_over\tTHE lazy dog!";
  auto fast = Tok(ascii);
  auto slow = Tok(ascii + " \xC2\xA7");  // section sign: punctuation
  EXPECT_EQ(fast, slow);
}

}  // namespace
}  // namespace freshet
