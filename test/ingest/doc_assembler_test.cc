#include "ingest/doc_assembler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "ingest/ingest_test_helpers.h"
#include "ingest/json_text.h"
#include "index/tokenizer.h"

namespace freshet {
namespace {

using testing_build::Ids;
using testing_build::ShowTerms;
using testing_build::Table;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Two campaigns, three ad groups, five ads (a5 paused). Ads carry no
// campaign_id of their own: it comes down from the ad group.
constexpr std::string_view kBase = R"(
{"type":"campaign","id":"c1","version":1,"status":"ACTIVE","campaign_name":"Summer Sale","advertiser":"acme","country":"DE"}
{"type":"campaign","id":"c2","version":1,"status":"ACTIVE","campaign_name":"Winter","advertiser":"bolt","country":"FR"}
{"type":"ad_group","id":"g1","version":1,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Shoes","bid_micros":1500000}
{"type":"ad_group","id":"g2","version":1,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Boots","bid_micros":900000}
{"type":"ad_group","id":"g3","version":1,"campaign_id":"c2","status":"ACTIVE","ad_group_name":"Hats","bid_micros":100}
{"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Red running shoes","url":"https://x.test/a1","keywords":["run",5]}
{"type":"ad","id":"a2","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Blue shoes","country":"AT"}
{"type":"ad","id":"a3","version":1,"ad_group_id":"g2","status":"ACTIVE","title":"Rain boots"}
{"type":"ad","id":"a4","version":1,"ad_group_id":"g3","status":"ACTIVE","title":"Wool hat"}
{"type":"ad","id":"a5","version":1,"ad_group_id":"g3","status":"PAUSED","title":"Straw hat"}
)";

std::vector<IndexDoc> Delta(std::string_view window, DocBuildStats* stats = nullptr) {
  const SchemaOptions s = DefaultAdsSchema();
  return BuildDeltaDocs(s, Table(s, kBase, "snap"), Table(s, window, "win"), stats);
}

TEST(DocAssemblerTest, FullDocsJoinTheHierarchy) {
  const SchemaOptions s = DefaultAdsSchema();
  DocBuildStats stats;
  std::vector<IndexDoc> docs = BuildFullDocs(s, Table(s, kBase), &stats);
  EXPECT_THAT(Ids(docs), ElementsAre("a1", "a2", "a3", "a4"));
  EXPECT_EQ(stats.entities, 10u);
  EXPECT_EQ(stats.leaves, 5u);
  EXPECT_EQ(stats.docs, 4u);
  EXPECT_EQ(stats.unservable, 1u);
  EXPECT_EQ(stats.tombstones, 0u);

  const IndexDoc& a1 = docs[0];
  EXPECT_FALSE(a1.tombstone);
  // "id" first, then stored_fields in config order, inherited ones included.
  EXPECT_EQ(a1.stored,
            R"({"id":"a1","title":"Red running shoes","url":"https://x.test/a1","campaign_id":"c1",)"
            R"("ad_group_id":"g1","country":"DE","bid_micros":1500000,"version":1})");
  EXPECT_THAT(ShowTerms(a1),
              ElementsAre("title=red", "title=running", "title=shoes", "campaign_name=summer", "campaign_name=sale",
                          "ad_group_name=shoes", "campaign_id=c1", "ad_group_id=g1", "country=DE",
                          "advertiser=acme", "keywords=run", "keywords=5"));
  // The leaf's own field wins over an inherited one.
  const IndexDoc& a2 = docs[1];
  EXPECT_EQ(a2.stored,
            R"({"id":"a2","title":"Blue shoes","campaign_id":"c1","ad_group_id":"g1","country":"AT",)"
            R"("bid_micros":1500000,"version":1})");
  EXPECT_THAT(ShowTerms(a2), ::testing::Contains("country=AT"));
  EXPECT_THAT(ShowTerms(a2), ::testing::Not(::testing::Contains("country=DE")));
}

// A record whose JSON holds no backslash is read as it stands (its string
// values between their quotes); one with an escape is unescaped. Either
// way, the documents are those of unescaping every value.
TEST(DocAssemblerTest, PlainRecordsAreReadAsTheyStand) {
  const SchemaOptions s = DefaultAdsSchema();
  const std::string escaped =
      R"({"type":"ad","id":"a6","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Caf\u00e9 \"deluxe\" shoes","keywords":["tab\there","x"]})";
  std::vector<EntityRecord> records = testing_build::ParseAll(s, std::string(kBase) + escaped + "\n");
  size_t plain = 0;
  for (const EntityRecord& r : records) {
    EXPECT_EQ(r.plain, r.json().find('\\') == std::string_view::npos) << r.id;
    plain += r.plain ? 1 : 0;
  }
  EXPECT_EQ(plain, records.size() - 1);
  std::vector<EntityRecord> unknown = records;  // as records of unknown escapes read
  for (EntityRecord& r : unknown) r.plain = false;
  const std::vector<IndexDoc> docs = BuildFullDocs(s, EntityTable::Build(std::move(records)));
  const std::vector<IndexDoc> want = BuildFullDocs(s, EntityTable::Build(std::move(unknown)));
  ASSERT_EQ(docs.size(), want.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    EXPECT_EQ(docs[i].stored, want[i].stored);
    EXPECT_EQ(ShowTerms(docs[i]), ShowTerms(want[i]));
  }
  ASSERT_EQ(Ids(docs).back(), "a6");
  EXPECT_THAT(ShowTerms(docs.back()), ::testing::IsSupersetOf({"title=café", "title=deluxe", "keywords=tab\there"}));
}

TEST(DocAssemblerTest, ServableOnlyWhenEveryLevelIsLiveAndActive) {
  const SchemaOptions s = DefaultAdsSchema();
  auto full_ids = [&](std::string_view extra) {
    return Ids(BuildFullDocs(s, EntityTable::Merge(Table(s, kBase), Table(s, extra))));
  };
  EXPECT_THAT(full_ids(R"({"type":"campaign","id":"c2","version":2,"status":"PAUSED"})"),
              ElementsAre("a1", "a2", "a3"));
  EXPECT_THAT(full_ids(R"({"type":"campaign","id":"c1","version":2,"deleted":true})"), ElementsAre("a4"));
  EXPECT_THAT(full_ids(R"({"type":"ad_group","id":"g1","version":2,"campaign_id":"c1","status":"REMOVED"})"),
              ElementsAre("a3", "a4"));
  EXPECT_THAT(full_ids(R"({"type":"ad_group","id":"g2","version":2,"deleted":true})"),
              ElementsAre("a1", "a2", "a4"));
  EXPECT_THAT(full_ids(R"({"type":"ad","id":"a1","version":2,"deleted":true})"), ElementsAre("a2", "a3", "a4"));
  // Orphans: the parent does not exist.
  EXPECT_THAT(full_ids(R"({"type":"ad","id":"a0","version":1,"ad_group_id":"g404","status":"ACTIVE"})"),
              ElementsAre("a1", "a2", "a3", "a4"));
  EXPECT_THAT(full_ids(R"({"type":"ad_group","id":"g3","version":2,"campaign_id":"c404","status":"ACTIVE"})"),
              ElementsAre("a1", "a2", "a3"));
}

TEST(DocAssemblerTest, CampaignPauseTombstonesAllItsAds) {
  DocBuildStats stats;
  std::vector<IndexDoc> docs =
      Delta(R"({"type":"campaign","id":"c1","version":2,"status":"PAUSED","campaign_name":"Summer Sale"})", &stats);
  EXPECT_THAT(Ids(docs), ElementsAre("a1(x)", "a2(x)", "a3(x)"));
  for (const auto& d : docs) {
    EXPECT_THAT(d.terms, IsEmpty());
    EXPECT_EQ(d.stored, "");
  }
  EXPECT_EQ(stats.fanout, 3u);
  EXPECT_EQ(stats.leaves_updated, 0u);
  EXPECT_EQ(stats.tombstones, 3u);
  EXPECT_EQ(stats.docs, 0u);
}

TEST(DocAssemblerTest, CampaignRenameReemitsAllItsAdsFromTheBase) {
  DocBuildStats stats;
  std::vector<IndexDoc> docs = Delta(
      R"({"type":"campaign","id":"c1","version":2,"status":"ACTIVE","campaign_name":"Autumn Sale","advertiser":"acme","country":"DE"})",
      &stats);
  EXPECT_THAT(Ids(docs), ElementsAre("a1", "a2", "a3"));
  EXPECT_EQ(stats.fanout, 3u);
  EXPECT_EQ(stats.docs, 3u);
  for (const auto& d : docs) {
    EXPECT_THAT(ShowTerms(d), ::testing::Contains("campaign_name=autumn")) << d.id;
    EXPECT_THAT(ShowTerms(d), ::testing::Not(::testing::Contains("campaign_name=summer"))) << d.id;
  }
  // The ads' own fields come from the base snapshot, unchanged.
  EXPECT_EQ(docs[2].stored,
            R"({"id":"a3","title":"Rain boots","campaign_id":"c1","ad_group_id":"g2","country":"DE",)"
            R"("bid_micros":900000,"version":1})");
  EXPECT_THAT(ShowTerms(docs[2]), ::testing::Contains("title=rain"));
}

TEST(DocAssemblerTest, AdGroupMovedToAnotherCampaign) {
  std::vector<IndexDoc> docs = Delta(
      R"({"type":"ad_group","id":"g2","version":2,"campaign_id":"c2","status":"ACTIVE","ad_group_name":"Boots","bid_micros":900000})");
  EXPECT_THAT(Ids(docs), ElementsAre("a3"));
  EXPECT_EQ(docs[0].stored,
            R"({"id":"a3","title":"Rain boots","campaign_id":"c2","ad_group_id":"g2","country":"FR",)"
            R"("bid_micros":900000,"version":1})");
  EXPECT_THAT(ShowTerms(docs[0]), ::testing::Contains("campaign_name=winter"));
}

TEST(DocAssemblerTest, AdMovedAwayFromAnUpdatedGroupFollowsItsNewGroup) {
  DocBuildStats stats;
  std::vector<IndexDoc> docs = Delta(
      R"({"type":"ad_group","id":"g1","version":2,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Sneakers"}
{"type":"ad","id":"a1","version":2,"ad_group_id":"g3","status":"ACTIVE","title":"Red running shoes"})",
      &stats);
  EXPECT_THAT(Ids(docs), ElementsAre("a1", "a2"));
  EXPECT_THAT(ShowTerms(docs[0]), ::testing::Contains("ad_group_name=hats"));
  EXPECT_THAT(ShowTerms(docs[1]), ::testing::Contains("ad_group_name=sneakers"));
  EXPECT_EQ(stats.leaves_updated, 1u);
  EXPECT_EQ(stats.fanout, 1u);
}

TEST(DocAssemblerTest, DeletesBecomeTombstones) {
  EXPECT_THAT(Ids(Delta(R"({"type":"ad","id":"a2","version":2,"deleted":true})")), ElementsAre("a2(x)"));
  EXPECT_THAT(Ids(Delta(R"({"type":"ad_group","id":"g3","version":2,"deleted":true})")),
              ElementsAre("a4(x)", "a5(x)"));
  // Deleting an ad nobody ever saw still emits its tombstone.
  EXPECT_THAT(Ids(Delta(R"({"type":"ad","id":"zz","version":2,"deleted":true})")), ElementsAre("zz(x)"));
  // Re-activating the paused ad brings it back.
  EXPECT_THAT(Ids(Delta(R"({"type":"ad","id":"a5","version":2,"ad_group_id":"g3","status":"ACTIVE"})")),
              ElementsAre("a5"));
}

TEST(DocAssemblerTest, NewEntitiesOnlyInTheWindow) {
  std::vector<IndexDoc> docs = Delta(
      R"({"type":"ad","id":"a9","version":1,"ad_group_id":"g9","status":"ACTIVE","title":"New"}
{"type":"ad_group","id":"g9","version":1,"campaign_id":"c9","status":"ACTIVE"}
{"type":"campaign","id":"c9","version":1,"status":"ACTIVE","country":"IT"})");
  EXPECT_THAT(Ids(docs), ElementsAre("a9"));
  EXPECT_EQ(docs[0].stored, R"({"id":"a9","title":"New","campaign_id":"c9","ad_group_id":"g9","country":"IT","version":1})");
  // A new ad under a group that is not there yet is a tombstone until it is.
  EXPECT_THAT(Ids(Delta(R"({"type":"ad","id":"a8","version":1,"ad_group_id":"g8","status":"ACTIVE"})")),
              ElementsAre("a8(x)"));
}

TEST(DocAssemblerTest, StaleWindowRecordsChangeNothing) {
  DocBuildStats stats;
  // Older than the snapshot's versions: the base already has newer state.
  EXPECT_THAT(Delta(R"({"type":"campaign","id":"c1","version":0,"status":"PAUSED"}
{"type":"ad","id":"a1","version":0,"deleted":true})",
                    &stats),
              IsEmpty());
  EXPECT_EQ(stats.stale_updates, 2u);
}

TEST(DocAssemblerTest, DeltaDocsAreSortedById) {
  std::vector<IndexDoc> docs = Delta(
      R"({"type":"ad","id":"a4","version":2,"ad_group_id":"g3","status":"ACTIVE","title":"x"}
{"type":"campaign","id":"c1","version":2,"status":"ACTIVE","campaign_name":"New"}
{"type":"ad","id":"a0","version":2,"ad_group_id":"g1","status":"ACTIVE","title":"x"})");
  EXPECT_THAT(Ids(docs), ElementsAre("a0", "a1", "a2", "a3", "a4"));
}

TEST(DocAssemblerTest, FlatSchema) {
  const SchemaOptions s = DefaultFlatSchema();
  const EntityTable base = Table(s, R"({"id":"x","version":1,"title":"Hello World","country":"DE","url":"u"}
{"id":"y","version":1,"title":"Bye","deleted":true}
{"id":"z","version":1,"title":"Zed","keywords":["a","b"]})");
  std::vector<IndexDoc> full = BuildFullDocs(s, base);
  EXPECT_THAT(Ids(full), ElementsAre("x", "z"));
  EXPECT_EQ(full[0].stored, R"({"id":"x","title":"Hello World","url":"u","country":"DE","version":1})");
  EXPECT_THAT(ShowTerms(full[0]), ElementsAre("title=hello", "title=world", "country=DE"));
  EXPECT_THAT(ShowTerms(full[1]), ElementsAre("title=zed", "keywords=a", "keywords=b"));

  const EntityTable window = Table(s, R"({"id":"x","version":2,"deleted":true}
{"id":"y","version":2,"title":"Back"})");
  EXPECT_THAT(Ids(BuildDeltaDocs(s, base, window)), ElementsAre("x(x)", "y"));
}

// A hand-built three-level schema with different names everywhere.
SchemaOptions ShopSchema() {
  SchemaOptions s;
  s.id_field = "key";
  s.version_field = "rev";
  s.deleted_field = "gone";
  s.type_field = "kind";
  s.levels = {
      LevelOptions{.name = "store", .parent_field = "", .status_field = "state", .active_values = {"open"},
                   .inherit = {"city", "label"}},
      LevelOptions{.name = "shelf", .parent_field = "store", .status_field = "", .active_values = {},
                   .inherit = {"aisle", "label"}},
      LevelOptions{.name = "item", .parent_field = "shelf", .status_field = "stock", .active_values = {"in", "low"},
                   .inherit = {}},
  };
  s.text_fields = {"label", "name"};
  s.keyword_fields = {"city", "aisle"};
  s.stored_fields = {"name", "id", "city", "aisle", "label", "name"};
  return s;
}

TEST(DocAssemblerTest, HandBuiltSchemaWithOtherNames) {
  const SchemaOptions s = ShopSchema();
  const EntityTable base = Table(s, R"({"kind":"store","key":"s1","rev":1,"state":"open","city":"Oslo","label":"Store Label"}
{"kind":"shelf","key":"h1","rev":1,"store":"s1","aisle":7,"label":"Shelf Label"}
{"kind":"item","key":"i1","rev":1,"shelf":"h1","stock":"low","name":"Green Tea"}
{"kind":"item","key":"i2","rev":1,"shelf":"h1","stock":"out","name":"Black Tea"}
{"kind":"item","key":"i3","rev":1,"shelf":"h1","stock":"in","name":"Mint","label":"Own"})");
  std::vector<IndexDoc> full = BuildFullDocs(s, base);
  ASSERT_THAT(Ids(full), ElementsAre("i1", "i3"));
  // Nearest wins: the shelf's label shadows the store's; the item's its own.
  EXPECT_EQ(full[0].stored, R"({"id":"i1","name":"Green Tea","city":"Oslo","aisle":7,"label":"Shelf Label"})");
  EXPECT_THAT(ShowTerms(full[0]),
              ElementsAre("label=shelf", "label=label", "name=green", "name=tea", "city=Oslo", "aisle=7"));
  EXPECT_EQ(full[1].stored, R"({"id":"i3","name":"Mint","city":"Oslo","aisle":7,"label":"Own"})");

  // Closing the store tombstones every item below it, two levels down.
  const EntityTable window = Table(s, R"({"kind":"store","key":"s1","rev":2,"state":"closed"})");
  EXPECT_THAT(Ids(BuildDeltaDocs(s, base, window)), ElementsAre("i1(x)", "i2(x)", "i3(x)"));
}

// Property: the base full index overlaid with the delta equals a full
// rebuild from base + window, for random hierarchies and random updates.
// A base record and a window record with one version but different
// lines: the update shows, whatever their hashes (a base record read from
// a full's entities has none).
TEST(DocAssemblerTest, OnAVersionTieTheUpdateShows) {
  const SchemaOptions s = DefaultFlatSchema();
  for (const char* title : {"a", "b", "c", "d", "e", "f"}) {
    const EntityTable base = Table(s, R"({"id":"x","version":5,"title":"base"})" "\n", "snap");
    const EntityTable window =
        Table(s, std::string(R"({"id":"x","version":5,"title":")") + title + "\"}\n", "win");
    const std::vector<IndexDoc> docs = BuildDeltaDocs(s, base, window);
    ASSERT_EQ(docs.size(), 1u) << title;
    EXPECT_NE(docs[0].stored.find(std::string("\"title\":\"") + title + "\""), std::string::npos) << docs[0].stored;
    // An older update changes nothing.
    const EntityTable older = Table(s, std::string(R"({"id":"x","version":4,"title":")") + title + "\"}\n", "win");
    EXPECT_TRUE(BuildDeltaDocs(s, base, older).empty()) << title;
  }
}

TEST(DocAssemblerTest, OverlayEqualsFullRebuildOnRandomUpdates) {
  const SchemaOptions s = DefaultAdsSchema();
  std::mt19937 rng(2026);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* statuses[] = {"ACTIVE", "ACTIVE", "ACTIVE", "PAUSED"};
  auto line = [&](const std::string& type, const std::string& id, int version, const std::string& parent_field,
                  const std::string& parent) {
    std::string l = R"({"type":")" + type + R"(","id":")" + id + R"(","version":)" + std::to_string(version);
    if (pick(12) == 0) return l + R"(,"deleted":true})";
    if (!parent_field.empty()) l += R"(,")" + parent_field + R"(":")" + parent + "\"";
    l += R"(,"status":")" + std::string(statuses[pick(4)]) + "\"";
    l += R"(,"campaign_name":"n)" + std::to_string(pick(5)) + R"(","ad_group_name":"g)" + std::to_string(pick(5)) +
         R"(","title":"t)" + std::to_string(pick(5)) + R"(","country":"C)" + std::to_string(pick(3)) + "\"}";
    return l;
  };
  auto random_batch = [&](int n, int version_lo, int version_hi) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      const int v = version_lo + pick(version_hi - version_lo + 1);
      switch (pick(3)) {
        case 0: out += line("campaign", "c" + std::to_string(pick(4)), v, "", "") + "\n"; break;
        case 1:
          out += line("ad_group", "g" + std::to_string(pick(8)), v, "campaign_id", "c" + std::to_string(pick(5))) +
                 "\n";
          break;
        default:
          out += line("ad", "a" + std::to_string(pick(30)), v, "ad_group_id", "g" + std::to_string(pick(9))) + "\n";
      }
    }
    return out;
  };
  auto keyed = [](const std::vector<IndexDoc>& docs) {
    std::map<std::string, std::string> out;
    for (const IndexDoc& d : docs) out[d.id] = d.stored + " " + ::testing::PrintToString(ShowTerms(d));
    return out;
  };
  uint64_t fanout = 0;
  for (int round = 0; round < 200; ++round) {
    const EntityTable base = Table(s, random_batch(60, 1, 10), "snap");
    // Window versions overlap the base's: some updates are stale.
    const EntityTable window = Table(s, random_batch(1 + pick(10), 5, 15), "win");
    DocBuildStats stats;
    std::map<std::string, std::string> overlay = keyed(BuildFullDocs(s, base));
    for (const IndexDoc& d : BuildDeltaDocs(s, base, window, &stats)) {
      if (d.tombstone) {
        overlay.erase(d.id);
      } else {
        overlay[d.id] = keyed({d})[d.id];
      }
    }
    fanout += stats.fanout;
    // The state the delta shows: per entity, the base's record when its
    // version is higher, else the window's (a version tie: the update).
    std::vector<EntityRecord> shown(window.records().begin(), window.records().end());
    for (const EntityRecord& b : base.records()) {
      const EntityRecord* w = window.Find(b.level, b.id);
      if (w == nullptr) {
        shown.push_back(b);
      } else if (b.version > w->version) {
        shown[static_cast<size_t>(w - window.records().data())] = b;
      }
    }
    ASSERT_EQ(overlay, keyed(BuildFullDocs(s, EntityTable::Build(std::move(shown))))) << "round " << round;
  }
  EXPECT_GT(fanout, 100u);  // the scenario really exercises fan-out
}


// The streams, on any number of threads, hand over exactly the documents
// the collecting functions make, in the same order, with the same stats,
// over many blocks of leaves.
TEST(DocAssemblerTest, StreamsOnThreadsAndInAnyBlockSizeMatchOneThread) {
  const SchemaOptions s = DefaultAdsSchema();
  std::string snap, win;
  for (int c = 0; c < 4; ++c) {
    snap += R"({"type":"campaign","id":"c)" + std::to_string(c) + R"(","version":1,"status":"ACTIVE","campaign_name":"Camp )" +
            std::to_string(c) + R"(","country":"DE"})" + "\n";
  }
  for (int g = 0; g < 40; ++g) {
    snap += R"({"type":"ad_group","id":"g)" + std::to_string(g) + R"(","version":1,"campaign_id":"c)" +
            std::to_string(g % 5) + R"(","status":")" + (g % 7 == 0 ? "PAUSED" : "ACTIVE") + R"(","ad_group_name":"Group )" +
            std::to_string(g) + R"("})" + "\n";
  }
  for (int a = 0; a < 3000; ++a) {
    snap += R"({"type":"ad","id":"a)" + std::to_string(100000 + a) + R"(","version":1,"ad_group_id":"g)" +
            std::to_string(a % 41) + R"(","status":"ACTIVE","title":"Ad number )" + std::to_string(a) +
            R"( für Straße","keywords":["k)" + std::to_string(a % 13) + R"(",)" + std::to_string(a % 3) + "]}\n";
  }
  // Pausing c1 re-emits every ad below it; a few ads change themselves.
  win += R"({"type":"campaign","id":"c1","version":2,"status":"PAUSED","campaign_name":"Camp 1"})" "\n";
  win += R"({"type":"ad_group","id":"g2","version":2,"campaign_id":"c3","status":"ACTIVE","ad_group_name":"Moved"})" "\n";
  for (int a = 0; a < 3000; a += 97) {
    win += R"({"type":"ad","id":"a)" + std::to_string(100000 + a) + R"(","version":2,"ad_group_id":"g3","status":"ACTIVE","title":"New )" +
           std::to_string(a) + R"("})" + "\n";
  }
  const EntityTable base = Table(s, snap, "snap");
  const EntityTable window = Table(s, win, "win");
  // Compared as the segments they make: the batches carry what the writer needs.
  auto segment = [](const std::function<void(SegmentWriter&)>& add) {
    SegmentWriterOptions o;
    o.ids_ascending = true;  // the streams promise id order; Finish fails otherwise
    SegmentWriter w(o);
    add(w);
    Result<std::vector<SegmentFile>> files = w.Finish();
    EXPECT_TRUE(files.ok());
    std::string all;
    if (files.ok()) {
      for (const SegmentFile& f : *files) all += f.name + ":" + f.bytes + ";";
    }
    return all;
  };
  auto from_docs = [&segment](const std::vector<IndexDoc>& docs) {
    return segment([&docs](SegmentWriter& w) {
      for (const IndexDoc& d : docs) w.Add(d);
    });
  };
  auto show = [](const DocBuildStats& st) {
    return ::testing::PrintToString(std::vector<uint64_t>{st.entities, st.leaves, st.stale_updates, st.leaves_updated,
                                                          st.fanout, st.docs, st.tombstones, st.unservable, st.terms,
                                                          st.token_errors});
  };
  DocBuildStats full_stats, delta_stats;
  const std::vector<IndexDoc> full = BuildFullDocs(s, base, &full_stats);
  const std::vector<IndexDoc> delta = BuildDeltaDocs(s, base, window, &delta_stats);
  ASSERT_GT(full.size(), 1500u);
  ASSERT_GT(delta.size(), 600u);
  const std::string full_segment = from_docs(full), delta_segment = from_docs(delta);
  ThreadPool pool("docs", 3, 16);
  for (size_t threads : {1, 2, 3, 8}) {
    // The block size changes the batches, not the segment.
    const size_t block_leaves = threads == 1 ? 4096 : threads == 2 ? 1 : threads == 3 ? 97 : 512;
    const DocParallelism par{&pool, threads, block_leaves};
    DocBuildStats st;
    EXPECT_EQ(segment([&](SegmentWriter& w) {
                StreamFullDocs(s, base, par, [&w](const DocBatch& b) { w.Add(b); }, &st);
              }),
              full_segment)
        << threads << " threads";
    EXPECT_EQ(show(st), show(full_stats)) << threads << " threads";
    st = {};
    EXPECT_EQ(segment([&](SegmentWriter& w) {
                StreamDeltaDocs(s, base, window, par, [&w](const DocBatch& b) { w.Add(b); }, &st);
              }),
              delta_segment)
        << threads << " threads";
    EXPECT_EQ(show(st), show(delta_stats)) << threads << " threads";
  }
}


// The assembler tokenizes text piecewise (pure-ASCII runs and non-ASCII
// words separately); the terms must be exactly those of Tokenize(whole
// text). Random texts over an alphabet of normalization hazards: combining
// marks right after separators, '=' + U+0338 (composes to U+2260), Hangul
// jamo, compatibility forms, case folding that expands, invalid bytes.
TEST(DocAssemblerTest, TextTermsAreThoseOfTokenizingTheWholeText) {
  const std::vector<std::string> alphabet = {
      "a", "Z", "9", "x", "Ab3", "QQ", " ", " ", "=", "<", ">", "-", ".", "'", "_", "\t", "\x7f", "@", "~",
      "\u0301", "\u0308", "\u0338", "\u0307", "\u0327", "\u3099",  // combining marks
      "é", "e\u0301", "İ", "ß", "Σ", "ς", "ǅ", "ŉ", "東京", "ｆｕｌｌ", "ﬁ", "（", "⑴", "½", "²", "\u00a0",
      "\u1100", "\u1161", "\u11a8", "가", "か", "\u212b", "Å", "ﾊﾟ", "\u2260", "\u0130", "µ", "\u2028",
      // Words across the assembler's 16-byte steps.
      "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789ABCDEF", "Q`[@{/:"};
  const SchemaOptions s = DefaultFlatSchema();
  std::mt19937 rng(7);
  std::string ndjson;
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 48);
    for (int k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    std::string line = R"({"id":"d)" + std::to_string(100000 + i) + R"(","version":1,"title":)";
    AppendJsonString(&line, text);
    ndjson += line + "}\n";
    texts.push_back(text);
  }
  const std::vector<IndexDoc> docs = BuildFullDocs(s, Table(s, ndjson));
  ASSERT_EQ(docs.size(), texts.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<std::string> want;
    Result<std::vector<std::string>> tokens = Tokenize(texts[i]);
    ASSERT_TRUE(tokens.ok());
    for (const std::string& t : *tokens) want.push_back("title=" + t);
    EXPECT_EQ(ShowTerms(docs[i]), want) << texts[i];
  }
}
}  // namespace
}  // namespace freshet
