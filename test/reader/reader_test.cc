#include "freshet/reader.h"

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reader/reader_internals.h"
#include "reader/sink_fixture.h"

namespace freshet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using reader_test::Doc;
using reader_test::GenerationSpec;
using reader_test::NamedStore;
using reader_test::WriteCurrent;
using reader_test::WriteGeneration;

const TimePoint kT = FromUnixMillis(1'795'000'000'000);
const std::string kFull = "full/20261122T120000Z-00000000000000aa";
const std::string kDelta = "delta/20261122T140500Z-00000000000000bb";
const std::string kDelta2 = "delta/20261122T141000Z-00000000000000cc";

Doc D(std::string id, std::string title, std::string description = "", std::vector<std::string> country = {},
      std::vector<std::string> tags = {}) {
  Doc d;
  d.id = std::move(id);
  if (!title.empty()) d.fields["title"] = {std::move(title)};
  if (!description.empty()) d.fields["description"] = {std::move(description)};
  if (!country.empty()) d.fields["country"] = std::move(country);
  if (!tags.empty()) d.fields["tags"] = std::move(tags);
  return d;
}

Doc Tombstone(std::string id) {
  Doc d;
  d.id = std::move(id);
  d.tombstone = true;
  return d;
}

Query Q(std::vector<std::string> args, bool any = false) {
  auto q = ParseQuery(args, any);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? *q : Query{};
}

std::vector<std::string> Search(const Reader& r, std::vector<std::string> args, bool any = false) {
  auto ids = r.Search(Q(std::move(args), any));
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<std::string>{"<error>"};
}

std::unique_ptr<Reader> MustOpen(const std::string& uri, ReaderOptions options = {}) {
  auto r = Reader::Open(uri, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// --- ParseQuery ---------------------------------------------------------

TEST(ParseQueryTest, WordsAndFieldClauses) {
  auto q = ParseQuery({"shoes", "country:DE", "url:https://x.test/a"}, true);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE(q->any);
  EXPECT_THAT(q->clauses, ElementsAre(QueryClause{"", "shoes"}, QueryClause{"country", "DE"},
                                      QueryClause{"url", "https://x.test/a"}));
}

TEST(ParseQueryTest, RejectsBadClauses) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {}, {""}, {":x"}, {"title:"}, {"!!!"}, {"ok", std::string("\xff\xfe")}}) {
    auto q = ParseQuery(args, false);
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << ::testing::PrintToString(args);
  }
}

// --- query semantics over one generation ---------------------------------

class SemanticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GenerationSpec full{.id = kFull};
    full.docs = {
        D("a1", "Red running shoes", "Fast and light", {"DE"}, {"run", "5"}),
        D("a2", "Blue shoes", "Leather", {"AT"}),
        D("a3", "Café Crème", "Paris breakfast", {"FR"}, {"Café"}),
        D("a4", "Cafe Latte", "milk coffee", {"IT"}),
        D("a5", "Rain boots", "red rubber", {"DE"}, {"rain gear"}),
        D("a6", "Straße und Weg", "東京 travel", {"DE"}),
    };
    WriteGeneration(*store_, full);
    WriteCurrent(*store_, kFull, "", kT);
    reader_ = MustOpen(store_.uri());
    ASSERT_NE(reader_, nullptr);
  }
  NamedStore store_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(SemanticsTest, BareWordMatchesAnyTextField) {
  EXPECT_THAT(Search(*reader_, {"red"}), ElementsAre("a1", "a5"));  // title of a1, description of a5
  EXPECT_THAT(Search(*reader_, {"shoes"}), ElementsAre("a1", "a2"));
  // A bare word never matches keyword fields.
  EXPECT_THAT(Search(*reader_, {"run"}), IsEmpty());
  EXPECT_THAT(Search(*reader_, {"DE"}), IsEmpty());
}

TEST_F(SemanticsTest, MultiTokenWordNeedsEveryTokenInSomeTextField) {
  EXPECT_THAT(Search(*reader_, {"red-shoes"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*reader_, {"rain+red"}), ElementsAre("a5"));  // title + description
  EXPECT_THAT(Search(*reader_, {"blue/red"}), IsEmpty());
}

TEST_F(SemanticsTest, KeywordFieldMatchesRawValueExactly) {
  EXPECT_THAT(Search(*reader_, {"country:DE"}), ElementsAre("a1", "a5", "a6"));
  EXPECT_THAT(Search(*reader_, {"country:de"}), IsEmpty());  // exact, no folding
  EXPECT_THAT(Search(*reader_, {"tags:rain gear"}), ElementsAre("a5"));
  EXPECT_THAT(Search(*reader_, {"tags:rain"}), IsEmpty());
  EXPECT_THAT(Search(*reader_, {"tags:5"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*reader_, {"tags:Café"}), ElementsAre("a3"));
}

TEST_F(SemanticsTest, TextFieldMatchesAllTokensInThatField) {
  EXPECT_THAT(Search(*reader_, {"title:red"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*reader_, {"description:red"}), ElementsAre("a5"));
  EXPECT_THAT(Search(*reader_, {"title:Running, SHOES!"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*reader_, {"title:rain red"}), IsEmpty());  // red is not in a5's title
}

TEST_F(SemanticsTest, AndVersusOr) {
  EXPECT_THAT(Search(*reader_, {"shoes", "country:AT"}), ElementsAre("a2"));
  EXPECT_THAT(Search(*reader_, {"shoes", "country:AT"}, true), ElementsAre("a1", "a2"));
  EXPECT_THAT(Search(*reader_, {"boots", "leather", "latte"}, true), ElementsAre("a2", "a4", "a5"));
  EXPECT_THAT(Search(*reader_, {"boots", "leather"}), IsEmpty());
  EXPECT_THAT(Search(*reader_, {"nothing", "country:FR"}, true), ElementsAre("a3"));
}

TEST_F(SemanticsTest, UnicodeFoldingAndWidth) {
  EXPECT_THAT(Search(*reader_, {"Café"}), ElementsAre("a3"));
  EXPECT_THAT(Search(*reader_, {"CAFÉ"}), ElementsAre("a3"));
  EXPECT_THAT(Search(*reader_, {"cafe\xcc\x81"}), ElementsAre("a3"));  // e + combining acute
  EXPECT_THAT(Search(*reader_, {"cafe"}), ElementsAre("a4"));          // no accent stripping
  EXPECT_THAT(Search(*reader_, {"ＣＡＦＥ"}), ElementsAre("a4"));       // full-width -> "cafe"
  EXPECT_THAT(Search(*reader_, {"title:ｌａｔｔｅ"}), ElementsAre("a4"));
  EXPECT_THAT(Search(*reader_, {"STRASSE"}), ElementsAre("a6"));  // full case folding: ß -> ss
  EXPECT_THAT(Search(*reader_, {"straße"}), ElementsAre("a6"));
  EXPECT_THAT(Search(*reader_, {"東京"}), ElementsAre("a6"));
}

TEST_F(SemanticsTest, BadQueriesAreInvalidArgument) {
  EXPECT_EQ(reader_->Search(Q({"color:red"})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader_->Search(Q({"title:!!"})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader_->Search(Query{}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SemanticsTest, GetReturnsStoredJson) {
  auto a2 = reader_->Get("a2");
  ASSERT_TRUE(a2.ok());
  ASSERT_TRUE(a2->has_value());
  EXPECT_EQ(**a2, R"({"id":"a2","country":"AT","description":"Leather","title":"Blue shoes"})");
  auto none = reader_->Get("zz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

// --- overlay -------------------------------------------------------------

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GenerationSpec full{.id = kFull};
    full.docs = {D("a1", "red shoes", "", {"DE"}), D("a2", "red hat", "", {"DE"}), D("a3", "red boots", "", {"FR"}),
                 D("a4", "green shoes", "", {"DE"})};
    WriteGeneration(*store_, full);
    GenerationSpec delta{.id = kDelta, .base = kFull};
    delta.docs = {
        D("a1", "blue shoes", "", {"DE"}),  // update: no longer red
        Tombstone("a2"),                    // deleted
        D("a0", "red scarf", "", {"FR"}),   // new, sorts first
        D("a9", "red shoes", "", {"DE"}),   // new
    };
    WriteGeneration(*store_, delta);
    WriteCurrent(*store_, kFull, kDelta, kT);
    reader_ = MustOpen(store_.uri());
    ASSERT_NE(reader_, nullptr);
  }
  NamedStore store_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(OverlayTest, DeltaShadowsBase) {
  EXPECT_THAT(Search(*reader_, {"red"}), ElementsAre("a0", "a3", "a9"));
  EXPECT_THAT(Search(*reader_, {"shoes"}), ElementsAre("a1", "a4", "a9"));
  EXPECT_THAT(Search(*reader_, {"blue"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*reader_, {"hat"}), IsEmpty());
  EXPECT_THAT(Search(*reader_, {"country:DE"}), ElementsAre("a1", "a4", "a9"));
  EXPECT_THAT(Search(*reader_, {"country:FR", "hat"}, true), ElementsAre("a0", "a3"));
}

TEST_F(OverlayTest, GetFollowsTheOverlay) {
  auto a1 = reader_->Get("a1");
  ASSERT_TRUE(a1.ok() && a1->has_value());
  EXPECT_THAT(**a1, ::testing::HasSubstr("blue shoes"));
  auto a2 = reader_->Get("a2");
  ASSERT_TRUE(a2.ok());
  EXPECT_FALSE(a2->has_value());
  auto a3 = reader_->Get("a3");
  ASSERT_TRUE(a3.ok() && a3->has_value());
  EXPECT_THAT(**a3, ::testing::HasSubstr("red boots"));
  auto a0 = reader_->Get("a0");
  ASSERT_TRUE(a0.ok() && a0->has_value());
}

TEST_F(OverlayTest, GenerationsReportCurrent) {
  EXPECT_EQ(reader_->generations(), (Generations{kFull, kDelta, {kDelta}, kT}));
}

TEST(ReaderEmptyTest, MissingFullOrDeltaIsEmpty) {
  NamedStore store;
  GenerationSpec full{.id = kFull};
  full.docs = {D("a1", "red")};
  WriteGeneration(*store, full);
  WriteCurrent(*store, kFull, "", kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a1"));

  WriteCurrent(*store, "", "", std::nullopt);
  ASSERT_TRUE(r->Refresh().ok());
  EXPECT_THAT(Search(*r, {"red"}), IsEmpty());
  EXPECT_EQ(r->generations(), Generations{});
  auto got = r->Get("a1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(ReaderEmptyTest, EmptySegmentsAndDeltaOnly) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});  // no docs at all
  GenerationSpec delta{.id = kDelta, .base = kFull};
  delta.docs = {D("b1", "red"), Tombstone("b0")};
  WriteGeneration(*store, delta);
  WriteCurrent(*store, kFull, kDelta, kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("b1"));
}

TEST(ReaderOpenTest, MissingCurrent) {
  NamedStore store;
  auto r = Reader::Open(store.uri());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);

  ReaderOptions lenient;
  lenient.require_current = false;
  auto empty = MustOpen(store.uri(), lenient);
  ASSERT_NE(empty, nullptr);
  EXPECT_THAT(Search(*empty, {"red"}), IsEmpty());
  EXPECT_EQ(empty->Refresh().code(), StatusCode::kNotFound);

  GenerationSpec full{.id = kFull};
  full.docs = {D("a1", "red")};
  WriteGeneration(*store, full);
  WriteCurrent(*store, kFull, "", kT);
  ASSERT_TRUE(empty->Refresh().ok());
  EXPECT_THAT(Search(*empty, {"red"}), ElementsAre("a1"));
}

TEST(ReaderOpenTest, RejectsABrokenChain) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  WriteGeneration(*store, GenerationSpec{.id = kDelta, .base = "full/other"});
  WriteCurrent(*store, kFull, kDelta, kT);
  EXPECT_EQ(Reader::Open(store.uri()).status().code(), StatusCode::kDataLoss);
}

TEST(ReaderOpenTest, MissingGenerationOrFile) {
  NamedStore store;
  WriteCurrent(*store, kFull, "", kT);
  EXPECT_EQ(Reader::Open(store.uri()).status().code(), StatusCode::kNotFound);
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  ASSERT_TRUE(DeleteSync(*store, GenerationFileKey(kFull, "terms")).ok());
  EXPECT_EQ(Reader::Open(store.uri()).status().code(), StatusCode::kNotFound);
}

TEST(ReaderOpenTest, FieldKindsFallBackToOptionsThenAdsSchema) {
  NamedStore store;
  GenerationSpec full{.id = kFull, .record_fields = false};
  full.text = {"headline"};
  full.keyword = {"market"};
  Doc d = D("a1", "");
  d.fields["headline"] = {"Red Shoes"};
  d.fields["market"] = {"DE"};
  d.fields["title"] = {"ignored"};
  full.docs = {d};
  WriteGeneration(*store, full);
  WriteCurrent(*store, kFull, "", kT);

  // Default: the ads schema, which has neither field.
  auto ads = MustOpen(store.uri());
  ASSERT_NE(ads, nullptr);
  EXPECT_EQ(ads->Search(Q({"headline:red"})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(Search(*ads, {"red"}), IsEmpty());

  ReaderOptions o;
  o.text_fields = std::vector<std::string>{"headline"};
  o.keyword_fields = std::vector<std::string>{"market"};
  auto r = MustOpen(store.uri(), o);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a1"));
  EXPECT_THAT(Search(*r, {"market:DE"}), ElementsAre("a1"));

  // Manifests that record their fields win over the options.
  NamedStore recorded;
  full.record_fields = true;
  WriteGeneration(*recorded, full);
  WriteCurrent(*recorded, kFull, "", kT);
  ReaderOptions wrong;
  wrong.text_fields = std::vector<std::string>{"title"};
  auto r2 = MustOpen(recorded.uri(), wrong);
  ASSERT_NE(r2, nullptr);
  EXPECT_THAT(Search(*r2, {"red"}), ElementsAre("a1"));
}

// --- refresh and waiting ---------------------------------------------------

TEST(ReaderRefreshTest, SwitchesWhenCurrentChanges) {
  NamedStore store;
  GenerationSpec full{.id = kFull};
  full.docs = {D("a1", "red"), D("a2", "red")};
  WriteGeneration(*store, full);
  GenerationSpec d1{.id = kDelta, .base = kFull};
  d1.docs = {Tombstone("a1")};
  WriteGeneration(*store, d1);
  GenerationSpec d2{.id = kDelta2, .base = kFull};
  d2.docs = {Tombstone("a2"), D("a3", "red")};
  WriteGeneration(*store, d2);
  WriteCurrent(*store, kFull, kDelta, kT);

  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a2"));
  ASSERT_TRUE(r->Refresh().ok());  // unchanged: a no-op
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a2"));

  WriteCurrent(*store, kFull, kDelta2, kT + std::chrono::minutes(5));
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a2"));  // not until Refresh
  store->ResetCallCounts();
  ASSERT_TRUE(r->Refresh().ok());
  EXPECT_EQ(r->generations(), (Generations{kFull, kDelta2, {kDelta2}, kT + std::chrono::minutes(5)}));
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a1", "a3"));
  // The full stayed live and was not reopened: CURRENT, the delta's
  // manifest and its 4 files' opening reads only.
  EXPECT_LE(store->call_counts().get, 1u + 1u + 4u * 3u);

  // A broken CURRENT leaves the view as it was.
  ASSERT_TRUE(PutSync(*store, std::string(kCurrentKey), "{oops").ok());
  EXPECT_EQ(r->Refresh().code(), StatusCode::kDataLoss);
  EXPECT_THAT(Search(*r, {"red"}), ElementsAre("a1", "a3"));
}

TEST(ReaderRefreshTest, ConcurrentSearchesSeeOneViewOrTheOther) {
  NamedStore store;
  GenerationSpec full{.id = kFull};
  for (int i = 0; i < 50; ++i) full.docs.push_back(D("a" + std::to_string(100 + i), "red"));
  WriteGeneration(*store, full);
  GenerationSpec d1{.id = kDelta, .base = kFull};
  d1.docs = {Tombstone("a100"), Tombstone("a101")};
  WriteGeneration(*store, d1);
  WriteCurrent(*store, kFull, "", kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);

  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, searches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto ids = r->Search(Q({"red"}));
        if (!ids.ok() || (ids->size() != 50 && ids->size() != 48)) ++bad;
        ++searches;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    WriteCurrent(*store, kFull, i % 2 ? "" : kDelta, kT + std::chrono::minutes(i));
    EXPECT_TRUE(r->Refresh().ok());
  }
  while (searches < 30) std::this_thread::yield();
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, 0);
}

TEST(ReaderWaitTest, ReturnsAtOnceWhenCovered) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  WriteCurrent(*store, kFull, "", kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->WaitForWatermark(kT, std::chrono::milliseconds(0)).ok());
  EXPECT_TRUE(r->WaitForWatermark(kT - std::chrono::minutes(5), std::chrono::milliseconds(0)).ok());
}

TEST(ReaderWaitTest, TimesOut) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  WriteCurrent(*store, kFull, "", kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  auto t0 = std::chrono::steady_clock::now();
  Status st = r->WaitForWatermark(kT + std::chrono::minutes(5), std::chrono::milliseconds(30),
                                  std::chrono::milliseconds(5));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(30));
  EXPECT_LT(waited, std::chrono::milliseconds(1000));
}

TEST(ReaderWaitTest, WakesWhenADeltaCoveringTIsPublished) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  GenerationSpec delta{.id = kDelta, .base = kFull};
  delta.docs = {D("n1", "new")};
  WriteGeneration(*store, delta);
  ReaderOptions lenient;
  lenient.require_current = false;  // nothing published yet
  auto r = MustOpen(store.uri(), lenient);
  ASSERT_NE(r, nullptr);
  std::thread publisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    WriteCurrent(*store, kFull, kDelta, kT);
  });
  Status st = r->WaitForWatermark(kT, std::chrono::seconds(5), std::chrono::milliseconds(2));
  publisher.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_THAT(Search(*r, {"new"}), ElementsAre("n1"));
}

TEST(ReaderWaitTest, NonTransientErrorsReturn) {
  NamedStore store;
  WriteGeneration(*store, GenerationSpec{.id = kFull});
  WriteCurrent(*store, kFull, "", kT);
  auto r = MustOpen(store.uri());
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(PutSync(*store, std::string(kCurrentKey), "garbage").ok());
  EXPECT_EQ(r->WaitForWatermark(kT + std::chrono::hours(1), std::chrono::seconds(5)).code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace freshet
