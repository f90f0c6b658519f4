#include "config/describe_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/schema_hash.h"

namespace freshet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TEST(DescribeOptionsTest, ListsEveryEffectiveValueIncludingDefaults) {
  Options o;
  o.schema = DefaultAdsSchema();
  o.pipeline.grace = 90min;
  o.pipeline.trigger = TriggerMode::kAvailableNow;
  std::string d = DescribeOptions(o);
  for (const char* line : {
           "source.uri = \"local://./data/source\"\n",
           "source.updates_prefix = \"updates/\"\n",
           "source.snapshots_prefix = \"snapshots/\"\n",
           "source.layout = \"%Y/%m/%d/%H/%M\"\n",
           "source.partition_interval = 5m\n",
           "sink.uri = \"local://./data/sink\"\n",
           "sink.retain_generations = 5\n",
           "schema.id_field = \"id\"\n",
           "schema.type_field = \"type\"\n",
           "schema.levels[0].name = \"campaign\"\n",
           "schema.levels[1].parent_field = \"campaign_id\"\n",
           "schema.levels[2].inherit = []\n",
           "schema.levels[0].active_values = [\"ACTIVE\"]\n",
           "schema.text_fields = [\"title\", \"description\", \"campaign_name\", \"ad_group_name\"]\n",
           "schema.max_field_bytes = 65536\n",
           "pipeline.trigger = available_now\n",
           "pipeline.trigger_interval = 30s\n",
           "pipeline.policy = latest\n",
           "pipeline.grace = 1h30m\n",
           "pipeline.full_rebuild_every = 0s\n",
           "pipeline.max_bad_ratio = 0.01\n",
           "pipeline.compute_threads = 0\n",
           "watchdog.max_uptime = 0s\n",
           "watchdog.max_commit_age = 15m\n",
           "log.level = \"info\"\n",
           "log.format = \"text\"\n",
           "admin.listen = \"127.0.0.1:9464\"\n",
       }) {
    EXPECT_THAT(d, HasSubstr(line));
  }
  EXPECT_THAT(d, HasSubstr("schema.hash = " + SchemaHash(o.schema) + "\n"));
}

TEST(DescribeOptionsTest, FlatSchemaSaysSo) {
  Options o;
  o.schema = DefaultFlatSchema();
  EXPECT_THAT(DescribeOptions(o), HasSubstr("schema.levels = [] (flat schema"));
}

TEST(DescribeOptionsTest, QuotesAwkwardStrings) {
  Options o;
  o.admin.listen = "";
  o.source.layout = "a\"b\\c\n";
  std::string d = DescribeOptions(o);
  EXPECT_THAT(d, HasSubstr("admin.listen = \"\"\n"));
  EXPECT_THAT(d, HasSubstr("source.layout = \"a\\\"b\\\\c\\u000a\"\n"));
}

TEST(DescribeOptionsTest, HidesS3Secrets) {
  Options o;
  o.s3.access_key_id = "AKIDPLANTED";
  o.s3.secret_access_key = "SECRETPLANTED";
  o.s3.session_token = "TOKENPLANTED";
  o.s3.verify_tls = false;
  std::string d = DescribeOptions(o);
  EXPECT_THAT(d, HasSubstr("s3.access_key_id = \"AKIDPLANTED\"\n"));  // an id, not a secret
  EXPECT_THAT(d, HasSubstr("s3.secret_access_key = ****** (hidden)\n"));
  EXPECT_THAT(d, HasSubstr("s3.session_token = ****** (hidden)\n"));
  EXPECT_THAT(d, HasSubstr("s3.verify_tls = false\n"));
  EXPECT_THAT(d, HasSubstr("s3.multipart_part_size = 16777216\n"));
  EXPECT_THAT(d, Not(HasSubstr("SECRETPLANTED")));
  EXPECT_THAT(d, Not(HasSubstr("TOKENPLANTED")));
}

TEST(DescribeOptionsTest, MasksCredentialsInUris) {
  Options o;
  o.source.uri = "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/prefix";
  std::string d = DescribeOptions(o);
  EXPECT_THAT(d, Not(HasSubstr("wJalrXUtnFEMI")));
  EXPECT_THAT(d, Not(HasSubstr("AKIAEXAMPLE")));
  EXPECT_THAT(d, HasSubstr("source.uri = \"s3://***@bucket/prefix\""));
}

TEST(DescribeOptionsTest, MaskUriUserInfo) {
  EXPECT_EQ(MaskUriUserInfo("s3://bucket/a@b"), "s3://bucket/a@b");  // '@' in the path is not user info
  EXPECT_EQ(MaskUriUserInfo("s3://u:p@bucket"), "s3://***@bucket");
  EXPECT_EQ(MaskUriUserInfo("local:///data"), "local:///data");
  EXPECT_EQ(MaskUriUserInfo("/plain/path@x"), "/plain/path@x");
  EXPECT_EQ(MaskUriUserInfo("s3://a@b@host/x"), "s3://***@host/x");
}

TEST(DescribeOptionsTest, SecretLookingKeys) {
  EXPECT_TRUE(LooksLikeSecretKey("source.secret_access_key"));
  EXPECT_TRUE(LooksLikeSecretKey("sink.session_token"));
  EXPECT_TRUE(LooksLikeSecretKey("admin.PASSWORD"));
  EXPECT_FALSE(LooksLikeSecretKey("source.uri"));
  EXPECT_FALSE(LooksLikeSecretKey("schema.text_fields"));
}

}  // namespace
}  // namespace freshet
