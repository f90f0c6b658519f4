// The shipped sample configs must load and validate: they are the first
// thing a user runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "config/config_loader.h"
#include "config/schema_hash.h"
#include "config/validate_options.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;

// CTest sets FRESHET_SOURCE_DIR. When the binary is run by hand, use the
// tree this file was compiled from (<src>/test/config/conf_files_test.cc),
// then look upwards from the working directory.
std::string ConfPath(const std::string& name) {
  if (const char* dir = std::getenv("FRESHET_SOURCE_DIR")) return std::string(dir) + "/conf/" + name;
  std::filesystem::path from_source = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  if (std::filesystem::exists(from_source / "conf" / name)) return (from_source / "conf" / name).string();
  for (std::filesystem::path p = std::filesystem::current_path(); !p.empty(); p = p.parent_path()) {
    if (std::filesystem::exists(p / "conf" / name)) return (p / "conf" / name).string();
    if (p == p.parent_path()) break;
  }
  return "conf/" + name;
}

TEST(ConfFilesTest, LocalJsonLoadsAndValidates) {
  auto r = LoadOptionsFromFile(ConfPath("local.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status st = ValidateOptions(*r);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(r->source.uri, "local://./data/source");
  EXPECT_EQ(r->sink.uri, "local://./data/sink");
  // The demo commits one batch per trigger: 15s partitions, 15s trigger.
  EXPECT_EQ(r->source.layout, "%Y/%m/%d/%H/%M/%S");
  EXPECT_EQ(r->source.partition_interval, 15s);
  EXPECT_EQ(r->pipeline.trigger, TriggerMode::kInterval);
  EXPECT_EQ(r->pipeline.trigger_interval, 15s);
  EXPECT_EQ(r->pipeline.grace, 3s);
  EXPECT_EQ(r->pipeline.overlap, 5min);
  EXPECT_EQ(r->log.format, "text");
  EXPECT_EQ(r->admin.listen, "127.0.0.1:9464");
  // The schema is written out in full and must be exactly the embedded one.
  EXPECT_EQ(SchemaHash(r->schema), SchemaHash(DefaultAdsSchema()));
}

TEST(ConfFilesTest, LocalFlatJsonLoadsAndValidates) {
  auto r = LoadOptionsFromFile(ConfPath("local-flat.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status st = ValidateOptions(*r);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(r->pipeline.trigger, TriggerMode::kAvailableNow);
  EXPECT_EQ(SchemaHash(r->schema), SchemaHash(DefaultFlatSchema()));
}

TEST(ConfFilesTest, S3JsonLoadsAndValidates) {
  auto r = LoadOptionsFromFile(ConfPath("s3.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status st = ValidateOptions(*r);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(r->source.uri, "s3://ads-updates/prod");
  EXPECT_EQ(r->sink.uri, "s3://ads-index/prod/delta");
  EXPECT_EQ(r->s3.region, "eu-west-1");
  EXPECT_EQ(r->s3.addressing, "auto");
  EXPECT_TRUE(r->s3.verify_tls);
  EXPECT_TRUE(r->s3.access_key_id.empty());  // credentials come from the environment
  // Every s3 key is spelled out with its default.
  S3Options defaults;
  EXPECT_EQ(r->s3.max_attempts, defaults.max_attempts);
  EXPECT_EQ(r->s3.request_timeout, defaults.request_timeout);
  EXPECT_EQ(r->s3.multipart_threshold, defaults.multipart_threshold);
  EXPECT_EQ(r->s3.multipart_part_size, defaults.multipart_part_size);
  EXPECT_EQ(SchemaHash(r->schema), SchemaHash(DefaultAdsSchema()));
}

}  // namespace
}  // namespace freshet
