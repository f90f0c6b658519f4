#include <gtest/gtest.h>

#include "config/validate_options.h"
#include "config/options.h"

namespace freshet {
namespace {

TEST(DefaultSchemaTest, AdsHierarchyMatchesTheGenerator) {
  SchemaOptions s = DefaultAdsSchema();
  EXPECT_EQ(s.id_field, "id");
  EXPECT_EQ(s.version_field, "version");
  EXPECT_EQ(s.deleted_field, "deleted");
  EXPECT_EQ(s.type_field, "type");
  EXPECT_EQ(s.group_field, "ad_group_id");
  ASSERT_EQ(s.levels.size(), 3u);
  EXPECT_EQ(s.levels[0].name, "campaign");
  EXPECT_EQ(s.levels[0].parent_field, "");
  EXPECT_EQ(s.levels[0].inherit, (std::vector<std::string>{"campaign_name", "advertiser", "country"}));
  EXPECT_EQ(s.levels[1].name, "ad_group");
  EXPECT_EQ(s.levels[1].parent_field, "campaign_id");
  EXPECT_EQ(s.levels[1].inherit, (std::vector<std::string>{"campaign_id", "ad_group_name", "bid_micros"}));
  EXPECT_EQ(s.levels[2].name, "ad");
  EXPECT_EQ(s.levels[2].parent_field, "ad_group_id");
  EXPECT_TRUE(s.levels[2].inherit.empty());
  for (const auto& l : s.levels) {
    EXPECT_EQ(l.status_field, "status");
    EXPECT_EQ(l.active_values, std::vector<std::string>{"ACTIVE"});
  }
  EXPECT_EQ(s.text_fields, (std::vector<std::string>{"title", "description", "campaign_name", "ad_group_name"}));
  EXPECT_EQ(s.keyword_fields,
            (std::vector<std::string>{"campaign_id", "ad_group_id", "country", "advertiser", "keywords"}));
  EXPECT_EQ(s.stored_fields, (std::vector<std::string>{"title", "url", "campaign_id", "ad_group_id", "country",
                                                       "bid_micros", "version"}));
}

TEST(DefaultSchemaTest, FlatSchemaHasNoLevels) {
  SchemaOptions s = DefaultFlatSchema();
  EXPECT_EQ(s.type_field, "");
  EXPECT_TRUE(s.levels.empty());
  EXPECT_EQ(s.text_fields, (std::vector<std::string>{"title", "description"}));
  EXPECT_EQ(s.keyword_fields, (std::vector<std::string>{"country", "campaign_id", "keywords"}));
  EXPECT_EQ(s.stored_fields, (std::vector<std::string>{"title", "url", "country", "campaign_id", "version"}));
}

TEST(DefaultSchemaTest, BothValidate) {
  Options o;
  o.schema = DefaultAdsSchema();
  EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o).message();
  o.schema = DefaultFlatSchema();
  EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o).message();
}

}  // namespace
}  // namespace freshet
