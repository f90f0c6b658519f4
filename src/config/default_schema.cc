// The schemas of the records `freshet gen` writes. These are also the
// documentation of how a schema maps fields: conf/local.json spells out the
// ads schema below key by key.
#include "config/options.h"

namespace freshet {

SchemaOptions DefaultAdsSchema() {
  SchemaOptions s;
  s.id_field = "id";
  s.version_field = "version";
  s.deleted_field = "deleted";
  s.type_field = "type";
  s.group_field = "ad_group_id";
  s.levels = {
      LevelOptions{.name = "campaign",
                   .parent_field = "",
                   .status_field = "status",
                   .active_values = {"ACTIVE"},
                   .inherit = {"campaign_name", "advertiser", "country"}},
      LevelOptions{.name = "ad_group",
                   .parent_field = "campaign_id",
                   .status_field = "status",
                   .active_values = {"ACTIVE"},
                   .inherit = {"campaign_id", "ad_group_name", "bid_micros"}},
      LevelOptions{.name = "ad",
                   .parent_field = "ad_group_id",
                   .status_field = "status",
                   .active_values = {"ACTIVE"},
                   .inherit = {}},
  };
  s.text_fields = {"title", "description", "campaign_name", "ad_group_name"};
  s.keyword_fields = {"campaign_id", "ad_group_id", "country", "advertiser", "keywords"};
  s.stored_fields = {"title", "url", "campaign_id", "ad_group_id", "country", "bid_micros", "version"};
  return s;
}

SchemaOptions DefaultFlatSchema() {
  SchemaOptions s;
  s.id_field = "id";
  s.version_field = "version";
  s.deleted_field = "deleted";
  s.type_field = "";
  s.group_field = "";
  s.levels = {};
  s.text_fields = {"title", "description"};
  s.keyword_fields = {"country", "campaign_id", "keywords"};
  s.stored_fields = {"title", "url", "country", "campaign_id", "version"};
  return s;
}

}  // namespace freshet
