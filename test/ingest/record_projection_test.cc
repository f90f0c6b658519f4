#include "ingest/record_projection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/ingest_test_helpers.h"
#include "ingest/ingested_window.h"

namespace freshet {
namespace {

using testing_build::ParseAll;
using testing_build::Stored;

// Every level, with members no document reads ("type", ids, versions,
// "notes", "deleted") and an escaped string.
constexpr std::string_view kRecords = R"(
{"type":"campaign","id":"c1","version":3,"status":"ACTIVE","campaign_name":"Summer \"Sale\"","advertiser":"acme","country":"DE","notes":"internal"}
{"type":"ad_group","id":"g1","version":1,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Shoes","bid_micros":1500000}
{"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Red running shoes","url":"https://x.test/a1","keywords":["run",5],"deleted":false}
{"type":"ad","id":"a2","version":1,"ad_group_id":"g1","status":"PAUSED","title":"Blue shoes","country":"AT"}
)";

TEST(RecordProjectionTest, KeepsEverySpanAndDropsTheRest) {
  const SchemaOptions s = DefaultAdsSchema();
  const BuildSchema schema = CompileBuildSchema(s);
  const std::vector<EntityRecord> parsed = ParseAll(s, kRecords, "updates/2026/01/01/00/00/part-00000.ndjson");
  ASSERT_EQ(parsed.size(), 4u);
  for (const EntityRecord& original : parsed) {
    EntityRecord r = original;
    ProjectToKept(&r, schema);
    SCOPED_TRACE(original.fields_json);
    EXPECT_LT(r.fields_json.size(), original.fields_json.size());
    EXPECT_EQ(r.fields_json.find("\"type\""), std::string::npos) << r.fields_json;
    EXPECT_EQ(r.fields_json.find("\"notes\""), std::string::npos) << r.fields_json;
    EXPECT_TRUE(r.source.empty());
    ASSERT_EQ(r.fields.size(), original.fields.size());
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      EXPECT_EQ(r.field(f), original.field(f)) << schema.fields[f];
    }
    EXPECT_EQ(r.fields_json.front(), '{');
    EXPECT_EQ(r.fields_json.back(), '}');
    EXPECT_EQ(CompareVersions(r, original), 0);
    EXPECT_EQ(std::tie(r.level, r.id, r.parent_id, r.deleted, r.active, r.line),
              std::tie(original.level, original.id, original.parent_id, original.deleted, original.active,
                       original.line));
  }
  // The campaign keeps its inherited fields, the escaped one verbatim.
  EntityRecord c1 = parsed[0];
  ProjectToKept(&c1, schema);
  EXPECT_EQ(c1.fields_json, R"({"advertiser":"acme","campaign_name":"Summer \"Sale\"","country":"DE"})");
}

TEST(RecordProjectionTest, AProjectedWindowMakesTheSameDocuments) {
  const SchemaOptions s = DefaultAdsSchema();
  const BuildSchema schema = CompileBuildSchema(s);
  std::vector<EntityRecord> projected = ParseAll(s, kRecords);
  for (EntityRecord& r : projected) ProjectToKept(&r, schema);
  const std::vector<IndexDoc> want = BuildFullDocs(s, EntityTable::Build(ParseAll(s, kRecords)));
  const std::vector<IndexDoc> got = BuildFullDocs(s, EntityTable::Build(std::move(projected)));
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Stored(got), Stored(want));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(testing_build::ShowTerms(got[i]), testing_build::ShowTerms(want[i]));
  }
}

TEST(RecordProjectionTest, AnIngestedWindowHoldsProjectedRecords) {
  const SchemaOptions s = DefaultAdsSchema();
  IngestedWindow window;
  window.ProjectRecords(s);
  DecodedInput decoded;
  decoded.records = ParseAll(s, kRecords, "k1");
  const ObjectInfo info{.key = "k1", .size = kRecords.size(), .etag = "e1"};
  window.Apply(WindowDiff{.fetch = {info}, .removed = {}}, std::move(decoded));
  const EntityRecord* a1 = window.state().Find(2, "a1");
  ASSERT_NE(a1, nullptr);
  EXPECT_TRUE(a1->source.empty());
  EXPECT_EQ(a1->json().find("\"type\""), std::string::npos) << a1->json();
  EXPECT_EQ(window.Objects().size(), 1u);

  // The window holds the object's records packed in one block; a copy of
  // a record owns its fields and outlives the object (ASan checks the
  // read).
  EXPECT_TRUE(a1->packed());
  EXPECT_TRUE(a1->fields_json.empty());
  EXPECT_TRUE(a1->fields.empty());
  const EntityRecord copy = *a1;
  EXPECT_FALSE(copy.packed());
  const size_t title = static_cast<size_t>(CompileBuildSchema(s).FieldIndex("title"));
  const std::string want(a1->field(title));
  window.Apply(WindowDiff{.fetch = {}, .removed = {info}}, DecodedInput{});
  EXPECT_EQ(window.state().Find(2, "a1"), nullptr);
  EXPECT_EQ(copy.field(title), want);
  EXPECT_EQ(want, R"("Red running shoes")");
}

TEST(RecordProjectionTest, PackedRecordsReadEveryFieldAsProjectedOnes) {
  const SchemaOptions s = DefaultAdsSchema();
  const BuildSchema schema = CompileBuildSchema(s);
  std::vector<EntityRecord> each = ParseAll(s, kRecords, "k1");
  for (EntityRecord& r : each) ProjectToKept(&r, schema);
  std::vector<EntityRecord> packed = ParseAll(s, kRecords, "k1");
  const std::unique_ptr<char[]> block = ProjectIntoArena(&packed, schema);
  ASSERT_NE(block, nullptr);
  ASSERT_EQ(packed.size(), each.size());
  const char* end = nullptr;
  for (size_t i = 0; i < each.size(); ++i) {
    SCOPED_TRACE(each[i].json());
    EXPECT_TRUE(packed[i].packed());
    for (size_t f = 0; f < schema.fields.size() + 2; ++f) EXPECT_EQ(packed[i].field(f), each[i].field(f)) << f;
    EXPECT_TRUE(packed[i].source.empty());
    // Values only, side by side: no keys, entries in record order.
    EXPECT_EQ(packed[i].json().find("\"title\""), std::string::npos);
    EXPECT_LT(packed[i].json().size(), each[i].json().size());
    EXPECT_GT(packed[i].json().data(), end);
    end = packed[i].json().data() + packed[i].json().size();
  }
  // Copies own their fields (dense again), moves keep the view.
  EntityRecord copy;
  copy = packed[0];
  EXPECT_FALSE(copy.packed());
  for (size_t f = 0; f < schema.fields.size(); ++f) EXPECT_EQ(copy.field(f), each[0].field(f)) << f;
  EntityRecord moved = std::move(packed[1]);
  EXPECT_TRUE(moved.packed());
  for (size_t f = 0; f < schema.fields.size(); ++f) EXPECT_EQ(moved.field(f), each[1].field(f)) << f;
}

}  // namespace
}  // namespace freshet
