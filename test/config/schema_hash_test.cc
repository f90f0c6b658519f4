#include "config/schema_hash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace freshet {
namespace {

TEST(SchemaHashTest, IsSixteenHexDigits) {
  std::string h = SchemaHash(DefaultAdsSchema());
  ASSERT_EQ(h.size(), 16u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SchemaHashTest, IsStableAcrossCallsAndCopies) {
  SchemaOptions a = DefaultAdsSchema();
  SchemaOptions b = a;
  EXPECT_EQ(SchemaHash(a), SchemaHash(b));
  EXPECT_EQ(SchemaHash(DefaultAdsSchema()), SchemaHash(DefaultAdsSchema()));
}

// Manifests record this value: a change here means every existing
// generation looks like it was built with another schema. Change the
// serialization only on purpose, bumping its version tag.
TEST(SchemaHashTest, GoldenValues) {
  EXPECT_EQ(SchemaHash(DefaultAdsSchema()), "cad354c4324460cc");
  EXPECT_EQ(SchemaHash(DefaultFlatSchema()), "d32bca2dd584d707");
  EXPECT_THAT(CanonicalSchemaText(DefaultFlatSchema()),
              ::testing::StartsWith("freshet.schema.v1\nid_field=2:id\nversion_field=7:version\n"));
}

TEST(SchemaHashTest, EveryFieldChangesTheHash) {
  const std::vector<std::function<void(SchemaOptions&)>> edits = {
      [](SchemaOptions& s) { s.id_field = "key"; },
      [](SchemaOptions& s) { s.version_field = "ts"; },
      [](SchemaOptions& s) { s.deleted_field = ""; },
      [](SchemaOptions& s) { s.type_field = "kind"; },
      [](SchemaOptions& s) { s.group_field = "campaign_id"; },
      [](SchemaOptions& s) { s.levels.pop_back(); },
      [](SchemaOptions& s) { s.levels[0].name = "camp"; },
      [](SchemaOptions& s) { s.levels[1].parent_field = "cid"; },
      [](SchemaOptions& s) { s.levels[1].status_field = "state"; },
      [](SchemaOptions& s) { s.levels[2].active_values.push_back("LIMITED"); },
      [](SchemaOptions& s) { s.levels[2].inherit.push_back("x"); },
      [](SchemaOptions& s) { s.text_fields.pop_back(); },
      [](SchemaOptions& s) { std::swap(s.text_fields[0], s.text_fields[1]); },  // order counts
      [](SchemaOptions& s) { s.keyword_fields.push_back("brand"); },
      [](SchemaOptions& s) { s.stored_fields.clear(); },
      [](SchemaOptions& s) { s.max_field_bytes += 1; },
      [](SchemaOptions& s) { s.max_record_bytes += 1; },
  };
  std::set<std::string> seen = {SchemaHash(DefaultAdsSchema())};
  for (size_t i = 0; i < edits.size(); ++i) {
    SchemaOptions s = DefaultAdsSchema();
    edits[i](s);
    EXPECT_TRUE(seen.insert(SchemaHash(s)).second) << "edit " << i << " did not change the hash";
  }
}

TEST(SchemaHashTest, SerializationIsUnambiguous) {
  SchemaOptions a, b;
  a.text_fields = {"ab"};
  b.text_fields = {"a", "b"};
  EXPECT_NE(SchemaHash(a), SchemaHash(b));
  // A value that looks like the next line of the serialization.
  SchemaOptions c, d;
  c.id_field = "id\nversion_field=7:version";
  d.id_field = "id";
  EXPECT_NE(SchemaHash(c), SchemaHash(d));
  // Moving a name from one list to the next.
  SchemaOptions e, f;
  e.text_fields = {"x"};
  f.keyword_fields = {"x"};
  EXPECT_NE(SchemaHash(e), SchemaHash(f));
  // Moving an inherited field between levels.
  SchemaOptions g = DefaultAdsSchema(), h = DefaultAdsSchema();
  g.levels[0].inherit.push_back("y");
  h.levels[1].inherit.insert(h.levels[1].inherit.begin(), "y");
  EXPECT_NE(SchemaHash(g), SchemaHash(h));
}

}  // namespace
}  // namespace freshet
