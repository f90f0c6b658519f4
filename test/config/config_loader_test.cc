#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/validate_options.h"

namespace freshet {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

Result<Options> Load(std::string_view json) { return LoadOptionsFromString(json, "t.json"); }

std::string LoadError(std::string_view json) {
  auto r = Load(json);
  EXPECT_FALSE(r.ok()) << "loaded: " << json;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ConfigLoaderTest, EmptyObjectGivesDefaultsAndTheAdsSchema) {
  auto r = Load("{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Options defaults;
  EXPECT_EQ(r->source.uri, defaults.source.uri);
  EXPECT_EQ(r->source.layout, defaults.source.layout);
  EXPECT_EQ(r->source.partition_interval, defaults.source.partition_interval);
  EXPECT_EQ(r->sink.retain_generations, defaults.sink.retain_generations);
  EXPECT_EQ(r->pipeline.trigger, TriggerMode::kInterval);
  EXPECT_EQ(r->pipeline.trigger_interval, 30s);
  EXPECT_EQ(r->pipeline.grace, 2min);
  EXPECT_EQ(r->pipeline.max_bad_ratio, 0.01);
  EXPECT_EQ(r->watchdog.drain_timeout, 60s);
  EXPECT_EQ(r->log.level, "info");
  EXPECT_EQ(r->admin.listen, "127.0.0.1:9464");
  EXPECT_EQ(r->schema.type_field, "type");
  EXPECT_EQ(r->schema.levels.size(), 3u);
  EXPECT_TRUE(ValidateOptions(*r).ok());
}

TEST(ConfigLoaderTest, MissingKeysKeepDefaults) {
  auto r = Load(R"({"pipeline": {"grace": "7s"}, "source": {"uri": "s3://b/p"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.grace, 7s);
  EXPECT_EQ(r->pipeline.overlap, 10min);  // untouched
  EXPECT_EQ(r->source.uri, "s3://b/p");
  EXPECT_EQ(r->source.updates_prefix, "updates/");
}

TEST(ConfigLoaderTest, CommentsAndTrailingCommasAreAccepted) {
  auto r = Load(R"(// leading comment
{
  /* block
     comment */
  "pipeline": {
    "grace": "5s",  // trailing comment
    "overlap": "1m",
  },
  "schema": {
    "text_fields": ["a", "b",],
  },
}
// after)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.grace, 5s);
  EXPECT_EQ(r->pipeline.overlap, 1min);
  EXPECT_EQ(r->schema.text_fields, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigLoaderTest, Utf8ByteOrderMarkIsSkipped) {
  auto r = Load("\xEF\xBB\xBF{\"log\": {\"level\": \"debug\"}}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->log.level, "debug");
}

TEST(ConfigLoaderTest, SyntaxErrorsGiveFileLineColumn) {
  std::string msg = LoadError("{\n  \"source\": {\n    \"uri\": \"x\"\n    \"layout\": \"y\"\n  }\n}");
  EXPECT_THAT(msg, HasSubstr("t.json:4:5: "));
  EXPECT_THAT(LoadError(""), HasSubstr("t.json:1:1: "));
  EXPECT_THAT(LoadError("{} {}"), HasSubstr("t.json:1:4: "));
  EXPECT_THAT(LoadError("{\n/* unterminated"), HasSubstr("t.json:2:"));
  EXPECT_THAT(LoadError("{\"log\": {\"level\": \"\xff\"}}"), HasSubstr("t.json:1:"));  // bad UTF-8
}

TEST(ConfigLoaderTest, RootMustBeAnObject) {
  EXPECT_THAT(LoadError("[]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(LoadError("\"x\""), HasSubstr("must be a JSON object"));
}

TEST(ConfigLoaderTest, NulBytesAndDeepNestingAreRejected) {
  EXPECT_THAT(LoadError(std::string("{}\0{", 4)), HasSubstr("t.json:1:3: NUL byte"));
  std::string deep = "{\"source\": " + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THAT(LoadError(deep), HasSubstr("nesting deeper than"));
}

TEST(ConfigLoaderTest, UnknownKeySuggestsTheRightOne) {
  std::string msg = LoadError("{\n  \"pipeline\": {\n    \"gracee\": \"5s\"\n  }\n}");
  EXPECT_THAT(msg, HasSubstr("t.json:3:5: pipeline.gracee: unknown key"));
  EXPECT_THAT(msg, HasSubstr("did you mean pipeline.grace?"));

  EXPECT_THAT(LoadError(R"({"pipeline": {"trigger-interval": "5s"}})"),
              HasSubstr("did you mean pipeline.trigger_interval?"));
  EXPECT_THAT(LoadError(R"({"pipeline": {"Grace": "5s"}})"), HasSubstr("did you mean pipeline.grace?"));
  EXPECT_THAT(LoadError(R"({"source": {"url": "x"}})"), HasSubstr("did you mean source.uri?"));
}

TEST(ConfigLoaderTest, KeyInTheWrongSectionPointsToItsHome) {
  EXPECT_THAT(LoadError(R"({"pipeline": {"heartbeat_interval": "5s"}})"),
              AllOf(HasSubstr("pipeline.heartbeat_interval: unknown key"),
                    HasSubstr("did you mean watchdog.heartbeat_interval?")));
  EXPECT_THAT(LoadError(R"({"grace": "5s"})"), HasSubstr("did you mean pipeline.grace?"));
}

TEST(ConfigLoaderTest, UnknownSectionSuggestsOrListsSections) {
  EXPECT_THAT(LoadError(R"({"pipline": {}})"), HasSubstr("did you mean pipeline?"));
  EXPECT_THAT(LoadError(R"({"zzzzzzzz": {}})"), HasSubstr("sections: source, sink"));
}

TEST(ConfigLoaderTest, UnknownKeyWithNothingCloseListsKnownKeys) {
  std::string msg = LoadError(R"({"sink": {"bucket_name": "x"}})");
  EXPECT_THAT(msg, HasSubstr("sink.bucket_name: unknown key (known keys: uri retain_generations writer_lease)"));
}

TEST(ConfigLoaderTest, UnknownKeyInsideALevel) {
  std::string msg = LoadError(R"({"schema": {"levels": [{"name": "a"}, {"name": "b", "parent": "x"}]}})");
  EXPECT_THAT(msg, HasSubstr("schema.levels[1].parent: unknown key"));
  EXPECT_THAT(msg, HasSubstr("did you mean schema.levels[1].parent_field?"));
}

TEST(ConfigLoaderTest, DuplicateKeysAreErrors) {
  EXPECT_THAT(LoadError("{\"log\": {\"level\": \"info\",\n \"level\": \"debug\"}}"),
              HasSubstr("t.json:2:2: log.level: duplicate key"));
  EXPECT_THAT(LoadError(R"({"log": {}, "log": {}})"), HasSubstr("log: duplicate key"));
}

struct TypeCase {
  std::string json;
  std::string expected;  // substring of the message
};

class WrongTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(WrongTypeTest, NamesKeyTypeAndLine) { EXPECT_THAT(LoadError(GetParam().json), HasSubstr(GetParam().expected)); }

INSTANTIATE_TEST_SUITE_P(
    Cases, WrongTypeTest,
    ::testing::Values(
        TypeCase{"{\"pipeline\": {\n\"grace\": 30}}",
                 "t.json:2:10: pipeline.grace: expected a duration string such as \"30s\""},
        TypeCase{R"({"pipeline": {"grace": 30}})", "(a bare number has no unit)"},
        TypeCase{R"({"source": {"uri": 5}})", "source.uri: expected a string, got a number"},
        TypeCase{R"({"source": "x"})", "source: expected an object, got a string"},
        TypeCase{R"({"sink": {"retain_generations": "5"}})",
                 "sink.retain_generations: expected a whole number in 0..4294967295, got a string (\"5\")"},
        TypeCase{R"({"sink": {"retain_generations": -1}})", "sink.retain_generations: -1 is negative"},
        TypeCase{R"({"sink": {"retain_generations": 8589934592}})", "8589934592 is out of range"},
        TypeCase{R"({"sink": {"retain_generations": 2.5}})", "sink.retain_generations: expected a whole number"},
        TypeCase{R"({"pipeline": {"max_bad_ratio": "0.1"}})", "pipeline.max_bad_ratio: expected a number"},
        TypeCase{R"({"pipeline": {"trigger": 1}})", "pipeline.trigger: expected one of \"interval\""},
        TypeCase{R"({"pipeline": {"trigger": "availble_now"}})",
                 "pipeline.trigger: \"availble_now\" is not one of interval continuous once available_now; did "
                 "you mean available_now?"},
        TypeCase{R"({"pipeline": {"policy": "newest"}})", "pipeline.policy: \"newest\" is not one of latest"},
        TypeCase{R"({"schema": {"text_fields": "title"}})", "schema.text_fields: expected an array of strings"},
        TypeCase{R"({"schema": {"text_fields": ["a", 1]}})", "schema.text_fields[1]: expected a string"},
        TypeCase{R"({"schema": {"levels": {}}})", "schema.levels: expected an array of level objects"},
        TypeCase{R"({"schema": {"levels": ["ad"]}})", "schema.levels[0]: expected an object"},
        TypeCase{R"({"schema": {"levels": [{"inherit": "x"}]}})", "schema.levels[0].inherit: expected an array"},
        TypeCase{R"({"log": {"level": null}})", "log.level: expected a string, got null"},
        TypeCase{R"({"admin": {"listen": true}})", "admin.listen: expected a string, got a boolean"},
        TypeCase{R"({"s3": {"verify_tls": "no"}})", "s3.verify_tls: expected true or false, got a string"},
        TypeCase{R"({"s3": {"regoin": "eu-west-1"}})", "s3.regoin: unknown key; did you mean s3.region?"}));

TEST(ConfigLoaderTest, ReadsTheS3Section) {
  auto r = LoadOptionsFromString(R"({"s3": {"region": "eu-west-1", "endpoint": "http://127.0.0.1:4568",
      "addressing": "path", "verify_tls": false, "max_attempts": 3, "request_timeout": "5s",
      "multipart_part_size": 8388608}})", "test.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->s3.region, "eu-west-1");
  EXPECT_EQ(r->s3.endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(r->s3.addressing, "path");
  EXPECT_FALSE(r->s3.verify_tls);
  EXPECT_EQ(r->s3.max_attempts, 3u);
  EXPECT_EQ(r->s3.request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(r->s3.multipart_part_size, 8u << 20);
}


TEST(ConfigLoaderTest, WholeNumbersMayBeWrittenAsDoubles) {
  auto r = Load(R"({"schema": {"max_record_bytes": 2e6}, "pipeline": {"fetch_parallelism": 16.0}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema.max_record_bytes, 2'000'000u);
  EXPECT_EQ(r->pipeline.fetch_parallelism, 16u);
}

// Found by libFuzzer + UBSan (config_loader_fuzz): rapidjson 1.1's
// full-precision parse read "0e5" as garbage; a config reads it as 0.
TEST(ConfigLoaderTest, AZeroWithAnExponentIsZero) {
  auto r = Load(R"({"pipeline": {"max_bad_ratio": 0e5}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.max_bad_ratio, 0.0);
  r = Load(R"({"pipeline": {"max_bad_ratio": 0.25e0}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.max_bad_ratio, 0.25);
}

TEST(ConfigLoaderTest, NumbersOfEveryKind) {
  auto r = Load(R"({"pipeline": {"max_bad_ratio": 0, "trigger_pending_bytes": 18446744073709551615}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.max_bad_ratio, 0.0);
  EXPECT_EQ(r->pipeline.trigger_pending_bytes, UINT64_MAX);
}

TEST(ConfigLoaderTest, Durations) {
  auto r = Load(R"({
    "source": {"partition_interval": "1d"},
    "pipeline": {"trigger_interval": "250ms", "grace": "1h30m", "overlap": "0s", "max_window": "2d"},
    "watchdog": {"max_uptime": "24h"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source.partition_interval, 24h);
  EXPECT_EQ(r->pipeline.trigger_interval, 250ms);
  EXPECT_EQ(r->pipeline.grace, 90min);
  EXPECT_EQ(r->pipeline.overlap, 0s);
  EXPECT_EQ(r->pipeline.max_window, 48h);
  EXPECT_EQ(r->watchdog.max_uptime, 24h);
}

TEST(ConfigLoaderTest, BadDurationsNameTheKey) {
  EXPECT_THAT(LoadError(R"({"pipeline": {"grace": "5x"}})"), HasSubstr("pipeline.grace: bad duration \"5x\""));
  EXPECT_THAT(LoadError(R"({"pipeline": {"grace": ""}})"), HasSubstr("pipeline.grace: empty duration"));
  EXPECT_THAT(LoadError(R"({"pipeline": {"grace": "-5s"}})"), HasSubstr("pipeline.grace: bad duration"));
  EXPECT_THAT(LoadError(R"({"pipeline": {"grace": "5"}})"), HasSubstr("pipeline.grace: bad duration"));
  EXPECT_THAT(LoadError(R"({"watchdog": {"max_uptime": "999999999999d"}})"),
              HasSubstr("watchdog.max_uptime: duration \"999999999999d\" is too large"));
  EXPECT_THAT(LoadError(R"({"watchdog": {"max_uptime": "900000000000h900000000000h900000000000h"}})"),
              HasSubstr("is too large"));
}

TEST(ConfigLoaderTest, SchemaSectionStartsFromAFlatSchema) {
  auto r = Load(R"({"schema": {"text_fields": ["title"]}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema.id_field, "id");
  EXPECT_EQ(r->schema.type_field, "");
  EXPECT_TRUE(r->schema.levels.empty());
  EXPECT_TRUE(r->schema.keyword_fields.empty());
  EXPECT_EQ(r->schema.text_fields, std::vector<std::string>{"title"});
}

TEST(ConfigLoaderTest, LevelsAreRead) {
  auto r = Load(R"({"schema": {"type_field": "kind", "levels": [
      {"name": "shop", "status_field": "state", "active_values": ["on", "live"], "inherit": ["shop_name"]},
      {"name": "item", "parent_field": "shop_id"}]}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->schema.levels.size(), 2u);
  EXPECT_EQ(r->schema.levels[0].name, "shop");
  EXPECT_EQ(r->schema.levels[0].status_field, "state");
  EXPECT_EQ(r->schema.levels[0].active_values, (std::vector<std::string>{"on", "live"}));
  EXPECT_EQ(r->schema.levels[0].inherit, std::vector<std::string>{"shop_name"});
  EXPECT_EQ(r->schema.levels[1].parent_field, "shop_id");
  EXPECT_TRUE(ValidateOptions(*r).ok()) << ValidateOptions(*r).message();
}

TEST(ConfigLoaderTest, EnumsAndLists) {
  auto r = Load(R"({"pipeline": {"trigger": "available_now", "policy": "sequential"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pipeline.trigger, TriggerMode::kAvailableNow);
  EXPECT_EQ(r->pipeline.policy, PlanPolicy::kSequential);
  for (auto [name, mode] : {std::pair{"interval", TriggerMode::kInterval}, {"continuous", TriggerMode::kContinuous},
                            {"once", TriggerMode::kOnce}, {"available_now", TriggerMode::kAvailableNow}}) {
    EXPECT_EQ(TriggerModeName(mode), name);
  }
  EXPECT_EQ(PlanPolicyName(PlanPolicy::kLatest), "latest");
}

TEST(ConfigLoaderTest, MessagesDoNotEchoHugeKeys) {
  std::string key(10000, 'k');
  std::string msg = LoadError("{\"log\": {\"" + key + "\": 1}}");
  EXPECT_LT(msg.size(), 400u);
  EXPECT_THAT(msg, HasSubstr("..."));
}

// ---- Files ----------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("freshet_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".json"))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ConfigLoaderTest, FromFileUsesThePathAsOrigin) {
  TempFile f("{\n \"log\": {\"levle\": \"x\"}}");
  auto r = LoadOptionsFromFile(f.path());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(f.path() + ":2:10: log.levle: unknown key; did you mean log.level?"));

  TempFile good(R"({"log": {"level": "warn"}})");
  auto g = LoadOptionsFromFile(good.path());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->log.level, "warn");
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  auto r = LoadOptionsFromFile("/nonexistent/freshet.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/freshet.json"));
}

// ---- Environment overrides -------------------------------------------------

class FakeEnv {
 public:
  explicit FakeEnv(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}
  std::function<const char*(const char*)> fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

TEST(EnvOverridesTest, AppliesEveryNamedVariable) {
  FakeEnv env({{"FRESHET_SOURCE_URI", "s3://bucket/ads"},
               {"FRESHET_SINK_URI", "local:///tmp/sink"},
               {"FRESHET_SINK_RETAIN_GENERATIONS", "9"},
               {"FRESHET_LOG_LEVEL", "debug"},
               {"FRESHET_LOG_FORMAT", "json"},
               {"FRESHET_ADMIN_LISTEN", ""},
               {"FRESHET_PIPELINE_TRIGGER", "once"},
               {"FRESHET_PIPELINE_TRIGGER_INTERVAL", "45s"},
               {"FRESHET_PIPELINE_POLICY", "sequential"},
               {"FRESHET_PIPELINE_MAX_BAD_RATIO", "0.25"},
               {"FRESHET_SOURCE_PARTITION_INTERVAL", "15m"},
               {"FRESHET_WATCHDOG_MAX_UPTIME", "24h"},
               {"FRESHET_UNRELATED", "x"}});
  Options o;
  ASSERT_TRUE(ApplyEnvOverrides(&o, env.fn()).ok());
  EXPECT_EQ(o.source.uri, "s3://bucket/ads");
  EXPECT_EQ(o.sink.uri, "local:///tmp/sink");
  EXPECT_EQ(o.sink.retain_generations, 9u);
  EXPECT_EQ(o.log.level, "debug");
  EXPECT_EQ(o.log.format, "json");
  EXPECT_EQ(o.admin.listen, "");  // set-but-empty disables the endpoint
  EXPECT_EQ(o.pipeline.trigger, TriggerMode::kOnce);
  EXPECT_EQ(o.pipeline.trigger_interval, 45s);
  EXPECT_EQ(o.pipeline.policy, PlanPolicy::kSequential);
  EXPECT_EQ(o.pipeline.max_bad_ratio, 0.25);
  EXPECT_EQ(o.source.partition_interval, 15min);
  EXPECT_EQ(o.watchdog.max_uptime, 24h);
}

TEST(EnvOverridesTest, UnsetVariablesChangeNothing) {
  FakeEnv env({});
  Options o;
  o.pipeline.grace = 3s;
  ASSERT_TRUE(ApplyEnvOverrides(&o, env.fn()).ok());
  EXPECT_EQ(o.pipeline.grace, 3s);
  EXPECT_EQ(o.source.uri, Options{}.source.uri);
}

TEST(EnvOverridesTest, SchemaIsNotOverridable) {
  std::vector<std::string> asked;
  Options o;
  ASSERT_TRUE(ApplyEnvOverrides(&o, [&](const char* n) -> const char* {
                asked.push_back(n);
                return nullptr;
              }).ok());
  EXPECT_THAT(asked, ::testing::Contains("FRESHET_PIPELINE_TRIGGER_INTERVAL"));
  EXPECT_THAT(asked, ::testing::Contains("FRESHET_WATCHDOG_HEARTBEAT_INTERVAL"));
  EXPECT_THAT(asked, Not(::testing::Contains(HasSubstr("SCHEMA"))));
}

struct EnvCase {
  std::string var, value, expected;
};
class BadEnvTest : public ::testing::TestWithParam<EnvCase> {};

TEST_P(BadEnvTest, NamesTheVariable) {
  FakeEnv env({{GetParam().var, GetParam().value}});
  Options o;
  Status st = ApplyEnvOverrides(&o, env.fn());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(GetParam().var));
  EXPECT_THAT(st.message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadEnvTest,
    ::testing::Values(EnvCase{"FRESHET_PIPELINE_GRACE", "soon", "(overrides pipeline.grace): bad duration"},
                      EnvCase{"FRESHET_PIPELINE_TRIGGER_INTERVAL", "", "empty duration"},
                      EnvCase{"FRESHET_PIPELINE_TRIGGER", "sometimes", "is not one of"},
                      EnvCase{"FRESHET_PIPELINE_FETCH_PARALLELISM", "-3", "not a non-negative whole number"},
                      EnvCase{"FRESHET_PIPELINE_FETCH_PARALLELISM", "8x", "not a non-negative whole number"},
                      EnvCase{"FRESHET_SINK_RETAIN_GENERATIONS", "99999999999", "larger than 4294967295"},
                      EnvCase{"FRESHET_PIPELINE_MAX_BAD_RATIO", "lots", "not a number"},
                      EnvCase{"FRESHET_PIPELINE_MAX_BAD_RATIO", "nan", "not a number"}));

TEST(LoadEffectiveOptionsTest, LoadsOverridesAndValidates) {
  TempFile f(R"({"pipeline": {"trigger_interval": "10s"}})");
  FakeEnv env({{"FRESHET_PIPELINE_TRIGGER_INTERVAL", "20s"}});
  auto r = LoadEffectiveOptions(f.path(), env.fn());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pipeline.trigger_interval, 20s);

  FakeEnv bad({{"FRESHET_SINK_RETAIN_GENERATIONS", "1"}});
  auto b = LoadEffectiveOptions(f.path(), bad.fn());
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), AllOf(HasSubstr(f.path()), HasSubstr("sink.retain_generations")));
}

TEST(ConfigLoaderTest, S3BooleansFromTheEnvironment) {
  Options o;
  FakeEnv env({{"FRESHET_S3_VERIFY_TLS", "false"}, {"FRESHET_S3_ADDRESSING", "virtual"}});
  ASSERT_TRUE(ApplyEnvOverrides(&o, env.fn()).ok());
  EXPECT_FALSE(o.s3.verify_tls);
  EXPECT_EQ(o.s3.addressing, "virtual");
  FakeEnv bad({{"FRESHET_S3_VERIFY_TLS", "yes"}});
  Status st = ApplyEnvOverrides(&o, bad.fn());
  EXPECT_THAT(st.message(), HasSubstr("FRESHET_S3_VERIFY_TLS"));
  EXPECT_THAT(st.message(), HasSubstr("not one of true false"));
}

}  // namespace
}  // namespace freshet
