// WindowState and the incremental segments: random histories of objects
// arriving (and leaving) batch by batch, each batch's segment made from
// the touched entities only, the segments merged newest-wins, compared
// with a from-scratch delta over the same objects after every batch.
#include "ingest/window_state.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "ingest/batch_input.h"
#include "ingest/doc_assembler.h"
#include "ingest/entity_table.h"

namespace freshet {
namespace {

std::vector<EntityRecord> Parse(const SchemaOptions& schema, const std::string& key, const std::string& body) {
  ObjectInfo info;
  info.key = key;
  info.size = body.size();
  DecodedInput in = DecodeAndParse(schema, {{info, body}});
  EXPECT_TRUE(in.bad.empty()) << in.bad.front().reason;
  return std::move(in.records);
}

std::vector<EntityKey> Keys(const std::vector<TouchedEntity>& touched) {
  std::vector<EntityKey> keys;
  for (const TouchedEntity& t : touched) keys.push_back(t.key);
  return keys;
}

std::string Describe(const IndexDoc& d) {
  std::string s = d.id + (d.tombstone ? " (tombstone)" : "") + " " + d.stored + " [";
  for (std::string_view t : d.terms) s += std::string(t) + ",";
  return s + "]";
}

// Random ads data: a few campaigns, ad groups and ads, updated at random.
class History {
 public:
  explicit History(uint64_t seed) : rng_(seed) {}

  std::string Line() {
    std::uniform_int_distribution<int> kind(0, 9);
    int k = kind(rng_);
    const int version = Pick(1, 40);  // often older than what is there already: stale or superseded
    const char* status = Pick(0, 4) == 0 ? "PAUSED" : "ACTIVE";
    if (Pick(0, 12) == 0) {  // a deletion at any level
      const char* type = k < 2 ? "campaign" : k < 4 ? "ad_group" : "ad";
      const std::string id = k < 2 ? Campaign() : k < 4 ? Group() : Ad();
      return R"({"type":")" + std::string(type) + R"(","id":")" + id + R"(","version":)" + std::to_string(version) +
             R"(,"deleted":true})";
    }
    if (k < 2) {
      return R"({"type":"campaign","id":")" + Campaign() + R"(","version":)" + std::to_string(version) +
             R"(,"status":")" + status + R"(","campaign_name":"Sale )" + std::to_string(Pick(0, 9)) +
             R"(","advertiser":"acme","country":"DE"})";
    }
    if (k < 4) {
      return R"({"type":"ad_group","id":")" + Group() + R"(","version":)" + std::to_string(version) +
             R"(,"campaign_id":")" + Campaign() + R"(","status":")" + status + R"(","ad_group_name":"Group )" +
             std::to_string(Pick(0, 9)) + R"(","bid_micros":)" + std::to_string(Pick(1, 9) * 1000) + "}";
    }
    return R"({"type":"ad","id":")" + Ad() + R"(","version":)" + std::to_string(version) + R"(,"ad_group_id":")" +
           Group() + R"(","status":")" + status + R"(","title":"Red shoes number )" + std::to_string(Pick(0, 99)) +
           R"(","url":"https://x.test/"})";
  }
  std::string Object(int lines) {
    std::string body;
    for (int i = 0; i < lines; ++i) body += Line() + "\n";
    return body;
  }
  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::string Campaign() { return "c" + std::to_string(Pick(0, 4)); }
  std::string Group() { return "g" + std::to_string(Pick(0, 11)); }
  std::string Ad() { return "a" + std::to_string(Pick(0, 59)); }
  std::mt19937_64 rng_;
};

// The merged view of a chain: id -> newest segment's document.
using Chain = std::map<std::string, IndexDoc>;

void Absorb(Chain* chain, std::vector<IndexDoc> segment) {
  for (IndexDoc& d : segment) (*chain)[d.id] = std::move(d);
}

void ExpectSameDocs(const Chain& chain, const std::vector<IndexDoc>& expected, const std::string& where) {
  ASSERT_EQ(chain.size(), expected.size()) << where;
  auto it = chain.begin();
  for (const IndexDoc& e : expected) {
    ASSERT_EQ(Describe(it->second), Describe(e)) << where;
    ++it;
  }
}

TEST(WindowStateTest, WinnersMatchAFromScratchTableWhateverTheOrder) {
  const SchemaOptions schema = DefaultAdsSchema();
  History h(7);
  std::vector<std::pair<std::string, std::string>> objects;
  for (int i = 0; i < 20; ++i) objects.emplace_back("u/" + std::to_string(i), h.Object(15));
  std::vector<EntityRecord> all;
  for (const auto& [k, body] : objects) {
    auto r = Parse(schema, k, body);
    all.insert(all.end(), r.begin(), r.end());
  }
  EntityTable expected = EntityTable::Build(all);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    std::vector<size_t> order(objects.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    WindowState w;
    for (size_t i : order) w.AddObject(objects[i].first, "e", Parse(schema, objects[i].first, objects[i].second));
    ASSERT_EQ(w.entities(), expected.size());
    EXPECT_EQ(w.records(), all.size());
    EXPECT_EQ(w.objects(), objects.size());
    for (const EntityRecord& r : expected.records()) {
      const EntityRecord* got = w.Find(r.level, r.id);
      ASSERT_NE(got, nullptr) << r.id;
      EXPECT_EQ(got->json(), r.json()) << r.id;
      std::vector<const EntityRecord*> a, b;
      w.ChildrenOf(r.level, r.id, &a);
      expected.ChildrenOf(r.level, r.id, &b);
      w.ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &a);
      expected.ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &b);
      ASSERT_EQ(a.size(), b.size()) << r.id;
      for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]->id, b[i]->id);
    }
  }
}

// Objects leaving in any order (the children index swaps entries between
// slots as winners leave, move parent or are replaced): the winners and
// every parent's children still equal a from-scratch table of what stays.
TEST(WindowStateTest, WinnersAndChildrenMatchAFromScratchTableAsObjectsLeave) {
  const SchemaOptions schema = DefaultAdsSchema();
  History h(11);
  std::vector<std::pair<std::string, std::string>> objects;
  for (int i = 0; i < 24; ++i) objects.emplace_back("u/" + std::to_string(100 + i), h.Object(20));
  for (uint64_t seed = 0; seed < 4; ++seed) {
    std::mt19937_64 rng(seed);
    WindowState w;
    for (const auto& [k, body] : objects) w.AddObject(k, "e", Parse(schema, k, body));
    std::vector<size_t> order(objects.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<bool> present(objects.size(), true);
    for (size_t step = 0; step < order.size(); ++step) {
      ASSERT_TRUE(w.RemoveObject(objects[order[step]].first));
      present[order[step]] = false;
      if (step % 3 != 0) continue;
      std::vector<EntityRecord> left;
      for (size_t i = 0; i < objects.size(); ++i) {
        if (!present[i]) continue;
        auto r = Parse(schema, objects[i].first, objects[i].second);
        left.insert(left.end(), r.begin(), r.end());
      }
      EntityTable expected = EntityTable::Build(left);
      ASSERT_EQ(w.entities(), expected.size()) << "seed " << seed << " step " << step;
      std::vector<std::string> winners;
      w.ForEachWinner([&winners](const EntityRecord& r) { winners.push_back(r.id); });
      ASSERT_EQ(winners.size(), expected.size());
      for (size_t i = 0; i < winners.size(); ++i) EXPECT_EQ(winners[i], expected.records()[i].id);  // ordered
      for (const EntityRecord& r : expected.records()) {
        std::vector<const EntityRecord*> a, b;
        w.ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &a);
        expected.ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &b);
        ASSERT_EQ(a.size(), b.size()) << r.id << " seed " << seed << " step " << step;
        for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]->json(), b[i]->json());
      }
    }
    EXPECT_EQ(w.entities(), 0u);
  }
}

// The entity index is an open-addressing table: thousands of entities
// (many growths, long probe runs, removals that shift entries back across
// the table's end), some held by several objects, objects leaving and
// coming back in random order. Every lookup, present or not, and every
// parent's children match a model of what is held.
TEST(WindowStateTest, TheEntityIndexFindsEveryEntityThroughGrowthAndRemoval) {
  const SchemaOptions schema = DefaultAdsSchema();
  constexpr int kObjects = 24, kAds = 6000;
  std::mt19937_64 rng(5);
  std::vector<std::string> bodies(kObjects);
  std::vector<std::vector<int>> ads_of(kObjects);
  for (int o = 0; o < kObjects; ++o) {
    for (int n = 0; n < 400; ++n) {
      const int ad = static_cast<int>(rng() % kAds);  // some ads in several objects
      ads_of[o].push_back(ad);
      bodies[o] += R"({"type":"ad","id":"a)" + std::to_string(ad) + R"(","version":)" + std::to_string(o * 1000 + n) +
                   R"(,"ad_group_id":"g)" + std::to_string(ad % 97) + R"(","status":"ACTIVE","title":"t"})" + "\n";
    }
  }
  WindowState w;
  std::vector<bool> held(kObjects, false);
  for (int step = 0; step < 120; ++step) {
    const int o = static_cast<int>(rng() % kObjects);
    const std::string key = "u/" + std::to_string(o);
    if (held[o]) {
      ASSERT_TRUE(w.RemoveObject(key));
    } else {
      w.AddObject(key, "e", Parse(schema, key, bodies[o]));
    }
    held[o] = !held[o];
    // The model: ad -> newest version over the held objects, group -> ads.
    std::map<int, int> version;
    for (int h = 0; h < kObjects; ++h) {
      if (!held[h]) continue;
      for (size_t n = 0; n < ads_of[h].size(); ++n) {
        int& v = version[ads_of[h][n]];
        v = std::max(v, h * 1000 + static_cast<int>(n));
      }
    }
    ASSERT_EQ(w.entities(), version.size()) << "step " << step;
    std::map<int, size_t> children;
    for (int ad = 0; ad < kAds; ++ad) {
      const EntityRecord* r = w.Find(2, "a" + std::to_string(ad));
      auto it = version.find(ad);
      if (it == version.end()) {
        ASSERT_EQ(r, nullptr) << "a" << ad << " step " << step;
        continue;
      }
      ASSERT_NE(r, nullptr) << "a" << ad << " step " << step;
      ASSERT_EQ(r->version, it->second) << "a" << ad << " step " << step;
      ++children[ad % 97];
    }
    for (int g = 0; g < 97; ++g) {
      std::vector<const EntityRecord*> kids;
      w.ChildrenOf(2, "g" + std::to_string(g), &kids);
      ASSERT_EQ(kids.size(), children[g]) << "g" << g << " step " << step;
    }
  }
}

TEST(WindowStateTest, TouchedNamesEveryChangedWinnerOnce) {
  const SchemaOptions schema = DefaultAdsSchema();
  WindowState w;
  w.AddObject("u/1", "e1",
              Parse(schema, "u/1",
                    R"({"type":"campaign","id":"c1","version":2,"status":"ACTIVE","campaign_name":"A","advertiser":"x","country":"DE"}
{"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"t"}
)"));
  EXPECT_EQ(Keys(w.TakeTouched()), (std::vector<EntityKey>{{0, "c1"}, {2, "a1"}}));
  EXPECT_TRUE(w.TakeTouched().empty());
  // An older c1 and the very same a1 line again (another object): nothing changes.
  w.AddObject("u/2", "e1",
              Parse(schema, "u/2",
                    R"({"type":"campaign","id":"c1","version":1,"status":"PAUSED","campaign_name":"A","advertiser":"x","country":"DE"}
{"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"t"}
)"));
  EXPECT_TRUE(w.TakeTouched().empty());
  EXPECT_EQ(w.duplicates(), 2u);
  // u/1 leaves (its object was rewritten): c1 falls back to version 1, a1 to u/2's copy.
  EXPECT_TRUE(w.RemoveObject("u/1"));
  EXPECT_EQ(Keys(w.TakeTouched()), (std::vector<EntityKey>{{0, "c1"}}));
  EXPECT_EQ(w.Find(0, "c1")->version, 1);
  EXPECT_EQ(w.Find(2, "a1")->source, "u/2");
  // u/2 leaves too: both entities are gone.
  EXPECT_TRUE(w.RemoveObject("u/2"));
  EXPECT_FALSE(w.RemoveObject("u/2"));
  EXPECT_EQ(Keys(w.TakeTouched()), (std::vector<EntityKey>{{0, "c1"}, {2, "a1"}}));
  EXPECT_EQ(w.Find(0, "c1"), nullptr);
  EXPECT_EQ(w.entities(), 0u);
  EXPECT_EQ(w.records(), 0u);
  std::vector<const EntityRecord*> kids;
  w.ChildrenOf(2, "g1", &kids);
  EXPECT_TRUE(kids.empty());
}

TEST(WindowStateTest, ReplacingAnObjectByKeyIsRemoveThenAdd) {
  const SchemaOptions schema = DefaultAdsSchema();
  WindowState w;
  const std::string v1 = R"({"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"t"}
)";
  const std::string v2 = R"({"type":"ad","id":"a1","version":2,"ad_group_id":"g2","status":"ACTIVE","title":"t"}
)";
  w.AddObject("u/1", "e1", Parse(schema, "u/1", v1));
  EXPECT_TRUE(w.Holds("u/1", "e1"));
  w.TakeTouched();
  w.AddObject("u/1", "e2", Parse(schema, "u/1", v2));  // a producer rewrote it
  EXPECT_TRUE(w.Holds("u/1", "e2"));
  EXPECT_FALSE(w.Holds("u/1", "e1"));
  EXPECT_EQ(w.objects(), 1u);
  EXPECT_EQ(Keys(w.TakeTouched()), (std::vector<EntityKey>{{2, "a1"}}));
  std::vector<const EntityRecord*> g1, g2;
  w.ChildrenOf(2, "g1", &g1);
  w.ChildrenOf(2, "g2", &g2);
  EXPECT_TRUE(g1.empty());
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0]->version, 2);
}

// The chain property: objects only arrive. After every batch the merged
// segments equal the from-scratch delta over every object so far, document
// for document (ids, stored fields, terms, tombstones).
TEST(WindowStateTest, MergedSegmentsEqualTheFromScratchDeltaAfterEveryBatch) {
  const SchemaOptions schema = DefaultAdsSchema();
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    History h(seed);
    // The base: a snapshot of everything at version 10ish.
    std::vector<EntityRecord> base_records = Parse(schema, "snap/0", h.Object(80));
    const EntityTable base = EntityTable::Build(base_records);
    WindowState w;
    std::vector<EntityRecord> window_records;
    Chain chain;
    const int batches = h.Pick(3, 12);
    for (int b = 0; b < batches; ++b) {
      const int objects = h.Pick(1, 3);
      for (int o = 0; o < objects; ++o) {
        const std::string key = "u/" + std::to_string(b) + "/" + std::to_string(o);
        const std::string body = h.Object(h.Pick(1, 25));
        std::vector<EntityRecord> records = Parse(schema, key, body);
        window_records.insert(window_records.end(), records.begin(), records.end());
        w.AddObject(key, "etag", std::move(records));
      }
      DocBuildStats st;
      Absorb(&chain, BuildTouchedDocs(schema, base, w, w.TakeTouched(), &st));
      const std::vector<IndexDoc> expected = BuildDeltaDocs(schema, base, EntityTable::Build(window_records));
      ExpectSameDocs(chain, expected, "seed " + std::to_string(seed) + " batch " + std::to_string(b));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// Objects also leave (rewritten or deleted at the source). The chain may
// then hold a tombstone or a base-equal document where a from-scratch delta
// holds nothing, so the comparison is what a reader sees: the chain's
// document, else the full's.
TEST(WindowStateTest, WithObjectsLeavingReadersSeeTheFromScratchAnswers) {
  const SchemaOptions schema = DefaultAdsSchema();
  for (uint64_t seed = 100; seed < 130; ++seed) {
    History h(seed);
    const EntityTable base = EntityTable::Build(Parse(schema, "snap/0", h.Object(80)));
    Chain full;
    Absorb(&full, BuildFullDocs(schema, base));
    auto view = [&full](const Chain& delta) {
      std::map<std::string, std::string> seen;
      for (const auto& [id, d] : full) seen[id] = Describe(d);
      for (const auto& [id, d] : delta) {
        if (d.tombstone) {
          seen.erase(id);
        } else {
          seen[id] = Describe(d);
        }
      }
      return seen;
    };
    WindowState w;
    std::map<std::string, std::string> held;  // key -> body
    Chain chain;
    for (int b = 0; b < 10; ++b) {
      const int changes = h.Pick(1, 3);
      for (int c = 0; c < changes; ++c) {
        if (!held.empty() && h.Pick(0, 2) == 0) {
          auto it = held.begin();
          std::advance(it, h.Pick(0, static_cast<int>(held.size()) - 1));
          if (h.Pick(0, 1) == 0) {
            w.RemoveObject(it->first);  // deleted at the source
            held.erase(it);
          } else {
            it->second = h.Object(h.Pick(1, 20));  // rewritten: a new ETag
            w.AddObject(it->first, "e" + std::to_string(b), Parse(schema, it->first, it->second));
          }
        } else {
          const std::string key = "u/" + std::to_string(b) + "/" + std::to_string(c);
          held[key] = h.Object(h.Pick(1, 20));
          w.AddObject(key, "e", Parse(schema, key, held[key]));
        }
      }
      Absorb(&chain, BuildTouchedDocs(schema, base, w, w.TakeTouched()));
      std::vector<EntityRecord> window_records;
      for (const auto& [key, body] : held) {
        auto r = Parse(schema, key, body);
        window_records.insert(window_records.end(), r.begin(), r.end());
      }
      Chain expected;
      Absorb(&expected, BuildDeltaDocs(schema, base, EntityTable::Build(window_records)));
      ASSERT_EQ(view(chain), view(expected)) << "seed " << seed << " batch " << b;
    }
  }
}

}  // namespace
}  // namespace freshet
