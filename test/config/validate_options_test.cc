#include "config/validate_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace freshet {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

Options Valid() {
  Options o;
  o.schema = DefaultAdsSchema();
  return o;
}

TEST(ValidateOptionsTest, DefaultsAreValid) {
  Status st = ValidateOptions(Valid());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(ValidateOptions(Options{}).ok());  // flat, field-less schema
}

struct BadCase {
  std::string name;
  std::function<void(Options&)> mutate;
  std::string key;      // must be named in the message
  std::string problem;  // and this must follow it
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesTheKeyAndTheProblem) {
  Options o = Valid();
  GetParam().mutate(o);
  Status st = ValidateOptions(o);
  ASSERT_FALSE(st.ok()) << GetParam().name;
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(GetParam().key + ": "));
  EXPECT_THAT(st.message(), HasSubstr(GetParam().problem));
}

LevelOptions Level(std::string name, std::string parent) {
  return LevelOptions{.name = std::move(name), .parent_field = std::move(parent)};
}

// clang-format off
const BadCase kBadCases[] = {
    // URIs
    {"empty source uri", [](Options& o) { o.source.uri = ""; }, "source.uri", "must not be empty"},
    {"unknown scheme", [](Options& o) { o.source.uri = "gs://bucket/x"; }, "source.uri", "unknown scheme \"gs\""},
    {"http is not a store", [](Options& o) { o.sink.uri = "http://host/x"; }, "sink.uri", "unknown scheme"},
    {"s3 without bucket", [](Options& o) { o.sink.uri = "s3:///prefix"; }, "sink.uri", "has no bucket"},
    {"local without path", [](Options& o) { o.sink.uri = "local://"; }, "sink.uri", "has no path"},
    {"absolute prefix", [](Options& o) { o.source.updates_prefix = "/updates/"; }, "source.updates_prefix", "relative"},
    {"dotdot prefix", [](Options& o) { o.source.snapshots_prefix = "a/../b/"; }, "source.snapshots_prefix", "'..'"},
    {"same prefixes", [](Options& o) { o.source.snapshots_prefix = o.source.updates_prefix; }, "source.snapshots_prefix", "must differ"},
    // Layout and interval
    {"unknown conversion", [](Options& o) { o.source.layout = "%Y/%j"; }, "source.layout", "unsupported conversion %j"},
    {"lone percent", [](Options& o) { o.source.layout = "%Y/%m/%d/%H/%M/%"; }, "source.layout", "lone '%'"},
    {"no minutes for 5m", [](Options& o) { o.source.layout = "%Y/%m/%d/%H"; o.source.partition_interval = 5min; }, "source.layout", "add fields down to %M"},
    {"no seconds for 30s", [](Options& o) { o.source.partition_interval = 30s; }, "source.layout", "add fields down to %S"},
    {"fields out of order", [](Options& o) { o.source.layout = "%m/%Y/%d/%H/%M"; }, "source.layout", "coarse to fine"},
    {"field twice", [](Options& o) { o.source.layout = "%Y/%m/%d/%d/%H/%M"; }, "source.layout", "appears twice"},
    {"field skipped", [](Options& o) { o.source.layout = "%Y/%m/%H/%M"; }, "source.layout", "%H without %d"},
    {"no fields", [](Options& o) { o.source.layout = "updates"; }, "source.layout", "no time fields"},
    {"interval zero", [](Options& o) { o.source.partition_interval = 0s; }, "source.partition_interval", "must be positive"},
    {"interval not whole seconds", [](Options& o) { o.source.partition_interval = 1500ms; }, "source.partition_interval", "whole number of seconds"},
    {"interval does not divide a day", [](Options& o) { o.source.partition_interval = 7min; }, "source.partition_interval", "divide a day"},
    {"interval over a day", [](Options& o) { o.source.partition_interval = 48h; }, "source.partition_interval", "divide a day"},
    // Sink
    {"retain one", [](Options& o) { o.sink.retain_generations = 1; }, "sink.retain_generations", "at least 2"},
    // Pipeline
    {"trigger interval zero", [](Options& o) { o.pipeline.trigger_interval = 0s; }, "pipeline.trigger_interval", "must be positive"},
    {"negative grace", [](Options& o) { o.pipeline.grace = -1s; }, "pipeline.grace", "must not be negative"},
    {"negative snapshot grace", [](Options& o) { o.pipeline.snapshot_grace = -1s; }, "pipeline.snapshot_grace", "must not be negative"},
    {"negative overlap", [](Options& o) { o.pipeline.overlap = -1min; }, "pipeline.overlap", "must not be negative"},
    {"negative rebuild", [](Options& o) { o.pipeline.full_rebuild_every = -1h; }, "pipeline.full_rebuild_every", "must not be negative"},
    {"window not over overlap", [](Options& o) { o.pipeline.max_window = o.pipeline.overlap; }, "pipeline.max_window", "longer than pipeline.overlap"},
    {"bad ratio high", [](Options& o) { o.pipeline.max_bad_ratio = 1.5; }, "pipeline.max_bad_ratio", "between 0 and 1"},
    {"bad ratio negative", [](Options& o) { o.pipeline.max_bad_ratio = -0.1; }, "pipeline.max_bad_ratio", "between 0 and 1"},
    {"bad ratio nan", [](Options& o) { o.pipeline.max_bad_ratio = std::nan(""); }, "pipeline.max_bad_ratio", "between 0 and 1"},
    {"no fetches", [](Options& o) { o.pipeline.fetch_parallelism = 0; }, "pipeline.fetch_parallelism", "1..256"},
    {"too many fetches", [](Options& o) { o.pipeline.fetch_parallelism = 257; }, "pipeline.fetch_parallelism", "1..256"},
    {"too many threads", [](Options& o) { o.pipeline.compute_threads = 5000; }, "pipeline.compute_threads", "0..1024"},
    {"no io threads", [](Options& o) { o.pipeline.io_threads = 0; }, "pipeline.io_threads", "1..64"},
    {"too many io threads", [](Options& o) { o.pipeline.io_threads = 65; }, "pipeline.io_threads", "1..64"},
    {"merge factor 1", [](Options& o) { o.pipeline.merge_factor = 1; }, "pipeline.merge_factor", "2..64"},
    {"chain cap below the factor", [](Options& o) { o.pipeline.max_segments = 3; }, "pipeline.max_segments",
     "merge_factor (4)..128"},
    // Watchdog
    {"heartbeat zero", [](Options& o) { o.watchdog.heartbeat_interval = 0s; }, "watchdog.heartbeat_interval", "must be positive"},
    {"stall under heartbeat", [](Options& o) { o.watchdog.actor_stall = 5s; }, "watchdog.actor_stall", "longer than watchdog.heartbeat_interval"},
    {"batch stall zero", [](Options& o) { o.watchdog.batch_stall = 0s; }, "watchdog.batch_stall", "must be positive"},
    {"negative uptime", [](Options& o) { o.watchdog.max_uptime = -1h; }, "watchdog.max_uptime", "must not be negative"},
    {"drain zero", [](Options& o) { o.watchdog.drain_timeout = 0s; }, "watchdog.drain_timeout", "must be positive"},
    {"commit age zero", [](Options& o) { o.watchdog.max_commit_age = 0s; }, "watchdog.max_commit_age", "must be positive"},
    // Log and admin
    {"log level", [](Options& o) { o.log.level = "warning"; }, "log.level", "did you mean warn?"},
    {"log format", [](Options& o) { o.log.format = "xml"; }, "log.format", "not one of text json"},
    {"listen without port", [](Options& o) { o.admin.listen = "localhost"; }, "admin.listen", "not \"host:port\""},
    {"listen bad port", [](Options& o) { o.admin.listen = "127.0.0.1:http"; }, "admin.listen", "bad port"},
    {"listen port too big", [](Options& o) { o.admin.listen = "127.0.0.1:70000"; }, "admin.listen", "bad port"},
    {"listen no host", [](Options& o) { o.admin.listen = ":9464"; }, "admin.listen", "no host"},
    {"listen bare ipv6", [](Options& o) { o.admin.listen = "::1:9464"; }, "admin.listen", "brackets"},
    // S3
    {"s3 addressing", [](Options& o) { o.s3.addressing = "vhost"; }, "s3.addressing", "not one of auto path virtual"},
    {"s3 endpoint scheme", [](Options& o) { o.s3.endpoint = "localhost:4568"; }, "s3.endpoint", "http:// or https://"},
    {"s3 key without secret", [](Options& o) { o.s3.access_key_id = "AKID"; }, "s3.secret_access_key", "set together"},
    {"s3 secret without key", [](Options& o) { o.s3.secret_access_key = "s"; }, "s3.access_key_id", "set together"},
    {"s3 token without keys", [](Options& o) { o.s3.session_token = "t"; }, "s3.session_token", "needs s3.access_key_id"},
    {"s3 no attempts", [](Options& o) { o.s3.max_attempts = 0; }, "s3.max_attempts", "at least 1"},
    {"s3 no connections", [](Options& o) { o.s3.max_connections = 0; }, "s3.max_connections", "at least 1"},
    {"s3 connect timeout", [](Options& o) { o.s3.connect_timeout = 0s; }, "s3.connect_timeout", "must be positive"},
    {"s3 request timeout", [](Options& o) { o.s3.request_timeout = 0s; }, "s3.request_timeout", "must be positive"},
    {"s3 retry delays", [](Options& o) { o.s3.retry_max_delay = 10ms; }, "s3.retry_max_delay", "at least s3.retry_base_delay"},
    {"s3 small parts", [](Options& o) { o.s3.multipart_part_size = 1 << 20; }, "s3.multipart_part_size", "5 MiB to 5 GiB"},
    {"s3 threshold below part", [](Options& o) { o.s3.multipart_threshold = 8 << 20; }, "s3.multipart_threshold", "at least s3.multipart_part_size"},
    // Schema
    {"no id field", [](Options& o) { o.schema.id_field = ""; }, "schema.id_field", "must not be empty"},
    {"no version field", [](Options& o) { o.schema.version_field = ""; }, "schema.version_field", "must not be empty"},
    {"id is version", [](Options& o) { o.schema.version_field = "id"; }, "schema.version_field", "must differ"},
    {"zero field bytes", [](Options& o) { o.schema.max_field_bytes = 0; }, "schema.max_field_bytes", "must be positive"},
    {"zero record bytes", [](Options& o) { o.schema.max_record_bytes = 0; }, "schema.max_record_bytes", "must be positive"},
    {"levels without type field", [](Options& o) { o.schema.type_field = ""; }, "schema.type_field", "hierarchical"},
    {"type field without levels", [](Options& o) { o.schema.levels.clear(); }, "schema.levels", "at least one level"},
    {"level without name", [](Options& o) { o.schema.levels[1].name = ""; }, "schema.levels[1].name", "must not be empty"},
    {"duplicate level names", [](Options& o) { o.schema.levels[2].name = "campaign"; }, "schema.levels[2].name", "names two levels"},
    {"child without parent", [](Options& o) { o.schema.levels[2].parent_field = ""; }, "schema.levels[2].parent_field", "parent's id"},
    {"root with parent", [](Options& o) { o.schema.levels[0].parent_field = "x"; }, "schema.levels[0].parent_field", "root level"},
    {"status without values", [](Options& o) { o.schema.levels[1].active_values.clear(); }, "schema.levels[1].active_values", "status_field is set"},
    {"values without status", [](Options& o) { o.schema.levels[1].status_field = ""; }, "schema.levels[1].status_field", "no status_field"},
    {"inherit twice", [](Options& o) { o.schema.levels[0].inherit.push_back("country"); }, "schema.levels[0].inherit", "\"country\" is listed twice"},
    {"inherit empty", [](Options& o) { o.schema.levels[0].inherit.push_back(""); }, "schema.levels[0].inherit[3]", "must not be empty"},
    {"inherit the id", [](Options& o) { o.schema.levels[1].inherit.push_back("id"); }, "schema.levels[1].inherit", "cannot be inherited"},
    {"inherit the type", [](Options& o) { o.schema.levels[0].inherit.push_back("type"); }, "schema.levels[0].inherit", "cannot be inherited"},
    {"text and keyword", [](Options& o) { o.schema.keyword_fields.push_back("title"); }, "schema.keyword_fields", "\"title\" is also in schema.text_fields"},
    {"text twice", [](Options& o) { o.schema.text_fields.push_back("title"); }, "schema.text_fields", "listed twice"},
    {"keyword empty", [](Options& o) { o.schema.keyword_fields.insert(o.schema.keyword_fields.begin(), ""); }, "schema.keyword_fields[0]", "must not be empty"},
    {"stored twice", [](Options& o) { o.schema.stored_fields.push_back("url"); }, "schema.stored_fields", "listed twice"},
    {"stored empty", [](Options& o) { o.schema.stored_fields.push_back(""); }, "schema.stored_fields[7]", "must not be empty"},
    {"hierarchy with only type", [](Options& o) { o.schema = SchemaOptions{}; o.schema.type_field = "kind"; }, "schema.levels", "at least one level"},
    {"two roots", [](Options& o) { o.schema.levels = {Level("a", ""), Level("b", "")}; }, "schema.levels[1].parent_field", "parent's id"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Cases, BadConfigTest, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           std::string n;
                           for (char c : info.param.name) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

struct GoodCase {
  std::string name;
  std::function<void(Options&)> mutate;
};
void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }
class GoodConfigTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodConfigTest, Passes) {
  Options o = Valid();
  GetParam().mutate(o);
  Status st = ValidateOptions(o);
  EXPECT_TRUE(st.ok()) << GetParam().name << ": " << st.message();
}

// clang-format off
const GoodCase kGoodCases[] = {
    {"bare relative path", [](Options& o) { o.source.uri = "data/source"; }},
    {"bare absolute path", [](Options& o) { o.sink.uri = "/var/lib/freshet/sink"; }},
    {"local absolute", [](Options& o) { o.sink.uri = "local:///var/lib/sink"; }},
    {"s3 bucket only", [](Options& o) { o.source.uri = "s3://bucket"; }},
    {"mem store", [](Options& o) { o.source.uri = "mem://test"; }},
    {"hive layout", [](Options& o) { o.source.layout = "dt=%Y-%m-%d/hr=%H/min=%M"; }},
    {"literal percent", [](Options& o) { o.source.layout = "100%%/%Y/%m/%d/%H/%M"; }},
    {"hourly", [](Options& o) { o.source.layout = "%Y/%m/%d/%H"; o.source.partition_interval = 2h; }},
    {"daily", [](Options& o) { o.source.layout = "%Y%m%d"; o.source.partition_interval = 24h; }},
    {"seconds", [](Options& o) { o.source.layout = "%Y/%m/%d/%H/%M/%S"; o.source.partition_interval = 30s; }},
    {"minute layout, hourly interval", [](Options& o) { o.source.partition_interval = 1h; }},
    {"zero grace and overlap", [](Options& o) { o.pipeline.grace = 0s; o.pipeline.overlap = 0s; o.pipeline.snapshot_grace = 0s; }},
    {"ratio bounds", [](Options& o) { o.pipeline.max_bad_ratio = 1.0; }},
    {"ratio zero", [](Options& o) { o.pipeline.max_bad_ratio = 0.0; }},
    {"parallelism bounds", [](Options& o) { o.pipeline.fetch_parallelism = 256; }},
    {"admin disabled", [](Options& o) { o.admin.listen = ""; }},
    {"admin any port", [](Options& o) { o.admin.listen = "0.0.0.0:0"; }},
    {"admin ipv6", [](Options& o) { o.admin.listen = "[::1]:9464"; }},
    {"no tombstones", [](Options& o) { o.schema.deleted_field = ""; }},
    {"no status on a level", [](Options& o) { o.schema.levels[2].status_field = ""; o.schema.levels[2].active_values.clear(); }},
    {"flat schema", [](Options& o) { o.schema = DefaultFlatSchema(); }},
    {"single level hierarchy", [](Options& o) { o.schema.levels.resize(1); }},
    {"empty updates prefix", [](Options& o) { o.source.updates_prefix = ""; }},
    {"s3 custom endpoint", [](Options& o) { o.s3.endpoint = "http://127.0.0.1:4568"; o.s3.addressing = "path"; }},
    {"s3 static keys", [](Options& o) { o.s3.access_key_id = "AKID"; o.s3.secret_access_key = "s"; o.s3.session_token = "t"; }},
    {"s3 no retries", [](Options& o) { o.s3.max_attempts = 1; }},
    {"s3 minimum parts", [](Options& o) { o.s3.multipart_part_size = 5 << 20; o.s3.multipart_threshold = 5 << 20; }},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Cases, GoodConfigTest, ::testing::ValuesIn(kGoodCases),
                         [](const ::testing::TestParamInfo<GoodCase>& info) {
                           std::string n;
                           for (char c : info.param.name) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(ValidateOptionsTest, ReportsEveryProblemAtOnce) {
  Options o = Valid();
  o.sink.retain_generations = 0;
  o.log.level = "loud";
  o.pipeline.fetch_parallelism = 0;
  Status st = ValidateOptions(o);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("sink.retain_generations: "));
  EXPECT_THAT(st.message(), HasSubstr("; log.level: "));
  EXPECT_THAT(st.message(), HasSubstr("; pipeline.fetch_parallelism: "));
}

TEST(CheckPartitionLayoutTest, Rules) {
  EXPECT_TRUE(CheckPartitionLayout("%Y/%m/%d/%H/%M", 5min).ok());
  EXPECT_TRUE(CheckPartitionLayout("%Y/%m/%d/%H/%M", 1min).ok());
  EXPECT_TRUE(CheckPartitionLayout("%Y/%m/%d/%H", 1h).ok());
  EXPECT_TRUE(CheckPartitionLayout("%Y/%m/%d/%H/%M/%S", 1s).ok());
  EXPECT_FALSE(CheckPartitionLayout("%Y/%m/%d/%H/%M", 90s).ok());   // needs %S
  EXPECT_FALSE(CheckPartitionLayout("%Y/%m/%d/%H", 90min).ok());    // 1h30m: needs %M
  EXPECT_FALSE(CheckPartitionLayout("%Y/%m", 24h).ok());            // no day
  EXPECT_FALSE(CheckPartitionLayout("%d/%H/%M", 5min).ok());        // no %Y
  EXPECT_FALSE(CheckPartitionLayout("%Y/%m/%d/%H/%M", -5min).ok());
  EXPECT_THAT(CheckPartitionLayout("%Y/%m/%d/%H", 90min).message(), HasSubstr("add fields down to %M"));
}

}  // namespace
}  // namespace freshet
