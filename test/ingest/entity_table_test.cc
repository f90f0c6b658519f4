#include "ingest/entity_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ingest/ingest_test_helpers.h"

namespace freshet {
namespace {

using testing_build::ParseAll;

// Same ids, competing versions; equal versions with different content;
// a byte-identical duplicate from another object; two levels sharing an id.
constexpr std::string_view kLines =
    R"({"type":"ad","id":"a","version":1,"ad_group_id":"g","title":"one"}
{"type":"ad","id":"a","version":3,"ad_group_id":"g","title":"three"}
{"type":"ad","id":"a","version":2,"ad_group_id":"g","title":"two"}
{"type":"ad","id":"b","version":5,"ad_group_id":"g","title":"left"}
{"type":"ad","id":"b","version":5,"ad_group_id":"g","title":"right"}
{"type":"ad","id":"b","version":5,"title":"right","ad_group_id":"g"}
{"type":"ad","id":"c","version":"2026-01-01T00:00:00Z","ad_group_id":"g"}
{"type":"ad","id":"c","version":"2026-01-01T00:00:01Z","ad_group_id":"g","deleted":true}
{"type":"ad_group","id":"a","version":1,"campaign_id":"k"}
)";

std::string Dump(const EntityTable& t) {
  std::string s;
  for (const auto& r : t.records()) {
    s += std::to_string(r.level) + "/" + r.id + "@" + std::to_string(r.version) + (r.deleted ? "D" : "") + " " +
         r.fields_json + "\n";
  }
  return s;
}

TEST(EntityTableTest, NewestVersionWinsAndTombstonesStay) {
  EntityTable t = EntityTable::Build(ParseAll(DefaultAdsSchema(), kLines));
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t.duplicates(), 5u);
  EXPECT_EQ(t.Find(2, "a")->version, 3);
  EXPECT_TRUE(t.Find(2, "c")->deleted);
  EXPECT_EQ(t.Find(0, "a"), nullptr);
  EXPECT_EQ(t.Find(1, "a")->parent_id, "k");
  // Records are in (level, id) order.
  EXPECT_EQ(t.records()[0].level, 1);
  EXPECT_EQ(t.records()[1].id, "a");
  const auto [lo, hi] = t.Level(2);
  EXPECT_EQ(hi - lo, 3);
  EXPECT_EQ(lo->id, "a");
}

TEST(EntityTableTest, ResultIsIndependentOfInputOrder) {
  const std::vector<EntityRecord> records = ParseAll(DefaultAdsSchema(), kLines);
  const std::string expected = Dump(EntityTable::Build(records));
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<EntityRecord> shuffled = records;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(Dump(EntityTable::Build(shuffled)), expected);
    // Split anywhere and merge, either way round.
    const size_t cut = rng() % (shuffled.size() + 1);
    std::vector<EntityRecord> left(shuffled.begin(), shuffled.begin() + static_cast<long>(cut));
    std::vector<EntityRecord> right(shuffled.begin() + static_cast<long>(cut), shuffled.end());
    EXPECT_EQ(Dump(EntityTable::Merge(EntityTable::Build(left), EntityTable::Build(right))), expected);
    EXPECT_EQ(Dump(EntityTable::Merge(EntityTable::Build(right), EntityTable::Build(left))), expected);
  }
}

TEST(EntityTableTest, SortedUniqueInputIsKeptAsIs) {
  // The table of kLines is sorted and unique: built again from its records
  // (sorted already: the fast path) or from them reversed, it is the same.
  const EntityTable t = EntityTable::Build(ParseAll(DefaultAdsSchema(), kLines));
  std::vector<EntityRecord> sorted = t.records();
  const EntityTable again = EntityTable::Build(sorted);
  EXPECT_EQ(Dump(again), Dump(t));
  EXPECT_EQ(again.duplicates(), 0u);
  EXPECT_EQ(again.Find(2, "a")->version, 3);
  std::reverse(sorted.begin(), sorted.end());
  EXPECT_EQ(Dump(EntityTable::Build(sorted)), Dump(t));
  // Sorted but for one duplicate at the end: the slow path drops it.
  std::reverse(sorted.begin(), sorted.end());
  sorted.push_back(sorted.back());
  const EntityTable dup = EntityTable::Build(sorted);
  EXPECT_EQ(Dump(dup), Dump(t));
  EXPECT_EQ(dup.duplicates(), 1u);
}

TEST(EntityTableTest, TieBreakOrder) {
  const auto recs = ParseAll(DefaultFlatSchema(), "{\"id\":\"x\",\"version\":5,\"t\":\"p\"}\n"
                                                  "{\"id\":\"x\",\"version\":5,\"t\":\"q\"}\n"
                                                  "{\"id\":\"x\",\"version\":4,\"t\":\"r\"}\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_LT(CompareVersions(recs[2], recs[0]), 0);
  EXPECT_EQ(CompareVersions(recs[0], recs[0]), 0);
  // Same version: the higher line hash wins, whichever it is.
  const bool p_wins = recs[0].tiebreak > recs[1].tiebreak;
  EXPECT_EQ(CompareVersions(recs[0], recs[1]) > 0, p_wins);
  EXPECT_EQ(Supersedes(recs[0], recs[1]), p_wins);
  EXPECT_EQ(Supersedes(recs[1], recs[0]), !p_wins);
  // Identical lines from two objects: content-equal, the larger source is kept.
  EntityRecord copy = recs[0];
  copy.source = "zzz";
  EXPECT_EQ(CompareVersions(copy, recs[0]), 0);
  EXPECT_TRUE(Supersedes(copy, recs[0]));
  EXPECT_FALSE(Supersedes(recs[0], copy));
}

TEST(EntityTableTest, ChildrenByParent) {
  EntityTable t = testing_build::Table(DefaultAdsSchema(),
                                       R"({"type":"ad","id":"a2","version":1,"ad_group_id":"g1"}
{"type":"ad","id":"a1","version":1,"ad_group_id":"g1"}
{"type":"ad","id":"a3","version":1,"ad_group_id":"g2"}
{"type":"ad_group","id":"g1","version":1,"campaign_id":"c"}
)");
  std::vector<const EntityRecord*> kids;
  t.ChildrenOf(2, "g1", &kids);
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[0]->id, "a1");
  EXPECT_EQ(kids[1]->id, "a2");
  kids.clear();
  t.ChildrenOf(1, "g1", &kids);
  t.ChildrenOf(2, "nope", &kids);
  EXPECT_TRUE(kids.empty());
  t.ChildrenOf(1, "c", &kids);
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0]->id, "g1");
}

}  // namespace
}  // namespace freshet
