// Reader::Search against a brute-force scan of the merged documents, over
// random documents (full + delta with updates, tombstones and new ids) and
// random queries.
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "freshet/reader.h"
#include "index/tokenizer.h"
#include "reader/sink_fixture.h"

namespace freshet {
namespace {

using reader_test::Doc;
using reader_test::GenerationSpec;
using reader_test::NamedStore;
using reader_test::WriteCurrent;
using reader_test::WriteGeneration;

const std::vector<std::string> kWords = {
    "red", "Red", "blue", "shoes", "SHOES", "boot", "hat", "Café", "café", "CAFÉ", "cafe", "Straße",
    "strasse", "東京", "ＣＡＦＥ", "naïve", "über", "42", "x1", "ｌａｔｔｅ", "latte", "wool"};
const std::vector<std::string> kCountries = {"DE", "FR", "de", "AT", "東京"};
const std::vector<std::string> kTags = {"run", "rain gear", "5", "Café", "sale:now"};

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
  const std::string& Pick(const std::vector<std::string>& v) { return v[Below(v.size())]; }

 private:
  std::mt19937 gen_;
};

std::string Phrase(Rng& rng) {
  static const char* kSeparators[] = {" ", ", ", "-", " / ", "!"};
  std::string s;
  size_t n = rng.Below(5);
  for (size_t i = 0; i < n; ++i) {
    if (i) s += kSeparators[rng.Below(5)];
    s += rng.Pick(kWords);
  }
  return s;
}

Doc RandomDoc(Rng& rng, std::string id) {
  Doc d;
  d.id = std::move(id);
  for (const char* f : {"title", "description"}) {
    std::string p = Phrase(rng);
    if (!p.empty()) d.fields[f] = {p};
  }
  if (rng.Chance(0.8)) d.fields["country"] = {rng.Pick(kCountries)};
  size_t tags = rng.Below(3);
  for (size_t i = 0; i < tags; ++i) d.fields["tags"].push_back(rng.Pick(kTags));
  if (d.fields.count("tags") && d.fields["tags"].empty()) d.fields.erase("tags");
  return d;
}

std::set<std::string> TokenSet(const std::string& s) {
  auto t = Tokenize(s);
  EXPECT_TRUE(t.ok());
  return t.ok() ? std::set<std::string>(t->begin(), t->end()) : std::set<std::string>{};
}

// The semantics of include/freshet/reader.h, written out directly.
bool Matches(const Doc& d, const QueryClause& c) {
  auto text_tokens = [&](const std::string& field) {
    auto it = d.fields.find(field);
    return it == d.fields.end() ? std::set<std::string>{} : TokenSet(it->second[0]);
  };
  if (c.field.empty()) {
    std::set<std::string> all = text_tokens("title");
    for (const auto& t : text_tokens("description")) all.insert(t);
    for (const auto& t : TokenSet(c.value)) {
      if (!all.count(t)) return false;
    }
    return true;
  }
  if (c.field == "country" || c.field == "tags") {
    auto it = d.fields.find(c.field);
    return it != d.fields.end() && reader_test::Contains(it->second, c.value);
  }
  std::set<std::string> have = text_tokens(c.field);
  for (const auto& t : TokenSet(c.value)) {
    if (!have.count(t)) return false;
  }
  return true;
}

bool Matches(const Doc& d, const Query& q) {
  for (const auto& c : q.clauses) {
    if (Matches(d, c) == q.any) return q.any;
  }
  return !q.any;
}

QueryClause RandomClause(Rng& rng) {
  switch (rng.Below(5)) {
    case 0:
    case 1:
      return {"", rng.Pick(kWords)};
    case 2:
      return {rng.Chance(0.5) ? "title" : "description",
              rng.Pick(kWords) + (rng.Chance(0.3) ? " " + rng.Pick(kWords) : "")};
    case 3:
      return {"country", rng.Pick(kCountries)};
    default:
      return {"tags", rng.Chance(0.9) ? rng.Pick(kTags) : "absent"};
  }
}

class CrossCheckTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(CrossCheckTest, SearchEqualsBruteForce) {
  Rng rng(GetParam());
  NamedStore store;
  const std::string full_id = "full/20261122T120000Z-00000000000000aa";
  const std::string delta_id = "delta/20261122T140500Z-00000000000000bb";

  std::map<std::string, Doc> base;
  for (int i = 0; i < 300; ++i) {
    if (rng.Chance(0.7)) base[std::to_string(1000 + i)] = RandomDoc(rng, std::to_string(1000 + i));
  }
  std::map<std::string, Doc> delta;
  for (int i = 0; i < 300; ++i) {
    std::string id = std::to_string(1000 + i);
    if (!rng.Chance(0.25)) continue;
    if (base.count(id) && rng.Chance(0.4)) {
      Doc t;
      t.id = id;
      t.tombstone = true;
      delta[id] = t;
    } else {
      delta[id] = RandomDoc(rng, id);
    }
  }
  // Ids outside the base's range and of other lengths, to mix the byte order.
  for (int i = 0; i < 20; ++i) delta["0" + std::to_string(i)] = RandomDoc(rng, "0" + std::to_string(i));
  delta["zz\xc3\xa9"] = RandomDoc(rng, "zz\xc3\xa9");

  // Small blocks so that every lookup crosses block boundaries.
  SegmentWriterOptions small;
  small.ids_per_block = 4;
  small.terms_block_bytes = 64;
  small.postings_block_bytes = 32;
  small.stored_block_bytes = 256;
  GenerationSpec fs{.id = full_id, .writer = small};
  for (auto& [id, d] : base) fs.docs.push_back(d);
  GenerationSpec ds{.id = delta_id, .base = full_id, .writer = small};
  for (auto& [id, d] : delta) ds.docs.push_back(d);
  WriteGeneration(*store, fs);
  WriteGeneration(*store, ds);
  WriteCurrent(*store, full_id, delta_id, FromUnixMillis(0));

  std::map<std::string, Doc> merged = base;
  for (auto& [id, d] : delta) {
    if (d.tombstone) merged.erase(id);
    else merged[id] = d;
  }

  auto reader = Reader::Open(store.uri());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const Reader& r = **reader;

  int nonempty = 0;
  for (int n = 0; n < 250; ++n) {
    Query q;
    q.any = rng.Chance(0.4);
    size_t clauses = 1 + rng.Below(3);
    for (size_t i = 0; i < clauses; ++i) q.clauses.push_back(RandomClause(rng));
    std::vector<std::string> expected;
    for (const auto& [id, d] : merged) {  // std::map: ascending bytewise
      if (Matches(d, q)) expected.push_back(id);
    }
    auto got = r.Search(q);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(*got, expected) << "query #" << n << ": " << ::testing::PrintToString(q.clauses)
                              << (q.any ? " (any)" : " (all)");
    nonempty += !expected.empty();
  }
  EXPECT_GT(nonempty, 50);  // the queries are not all trivially empty

  // Every id ever written: Get follows the overlay.
  std::set<std::string> ids;
  for (auto& [id, d] : base) ids.insert(id);
  for (auto& [id, d] : delta) ids.insert(id);
  for (const auto& id : ids) {
    auto got = r.Get(id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto it = merged.find(id);
    if (it == merged.end()) {
      EXPECT_FALSE(got->has_value()) << id;
    } else {
      ASSERT_TRUE(got->has_value()) << id;
      EXPECT_EQ(**got, reader_test::StoredJson(it->second)) << id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrossCheckTest, ::testing::Values(1u, 2u, 3u));

}  // namespace
}  // namespace freshet
