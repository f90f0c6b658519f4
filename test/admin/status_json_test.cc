// The /status document: every field of src/admin/STATUS_JSON.md, nulls for
// what is not known, rates from trigger spacing, and valid JSON whatever
// the messages contain.
#include "admin/status_json.h"
#include "admin/batch_progress.h"
#include "testing/times.h"

#include <gtest/gtest.h>

#include <cmath>

#include <rapidjson/document.h>

namespace freshet {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

BatchProgress Committed(uint64_t id, TimePoint trigger, uint64_t records) {
  BatchProgress p;
  p.batch_id = id;
  p.trigger_time = trigger;
  p.outcome = BatchOutcome::kCommitted;
  p.kind = "delta";
  p.target = FormatRfc3339(trigger - minutes(5));
  p.window_start = FormatRfc3339(trigger - minutes(30));
  p.window_end = FormatRfc3339(trigger);
  p.records = records;
  p.objects = 2;
  p.bytes = 1000;
  p.bad_records = 1;
  p.docs = 7;
  p.terms = 70;
  p.output_bytes = 500;
  p.seconds(Stage::kBuild) = 1.5;
  p.seconds(Stage::kFetch) = 0.5;
  p.freshness_lag_seconds = 42;
  p.since_trigger_seconds = 2.25;
  p.watermark = p.target;
  p.delta_generation = "delta/x";
  return p;
}

TEST(StatusJsonTest, StateBeforeAnyCommitIsMostlyNull) {
  StatusSnapshot s;
  s.version = "9.9.9";
  s.now = kT0;
  s.started = kT0 - seconds(5);
  s.uptime_seconds = 5;
  s.trigger_mode = "interval";
  s.trigger_interval_seconds = 30;
  s.partition_interval = minutes(5);
  s.source = "file:///src";
  s.sink = "file:///sink";
  auto d = Parse(EncodeStatusJson(s, {}));
  EXPECT_STREQ(d["service"].GetString(), "freshet");
  EXPECT_STREQ(d["version"].GetString(), "9.9.9");
  EXPECT_STREQ(d["now"].GetString(), FormatRfc3339(kT0).c_str());
  EXPECT_FALSE(d["ready"].GetBool());
  EXPECT_TRUE(d["healthy"].GetBool());
  EXPECT_STREQ(d["trigger"]["mode"].GetString(), "interval");
  EXPECT_EQ(d["trigger"]["interval_seconds"].GetDouble(), 30);
  const auto& st = d["state"];
  EXPECT_TRUE(st["watermark"].IsNull());
  EXPECT_TRUE(st["freshness_lag_seconds"].IsNull());
  EXPECT_TRUE(st["last_commit"].IsNull());
  EXPECT_TRUE(st["base_generation"].IsNull());
  EXPECT_TRUE(st["batch_in_flight"].IsNull());
  EXPECT_EQ(st["partition_interval_seconds"].GetDouble(), 300);
  EXPECT_EQ(st["not_eligible"].Size(), 0u);
  EXPECT_EQ(d["recent_batches"].Size(), 0u);
}

TEST(StatusJsonTest, StateAndBatchesCarryEveryField) {
  StatusSnapshot s;
  s.now = kT0 + minutes(21);
  s.watermark = kT0 + minutes(10);
  s.partition_interval = minutes(5);
  s.last_commit = kT0 + minutes(20);
  s.base_generation = "full/a";
  s.delta_generation = "delta/b";
  s.next_batch_id = 4;
  s.healthy = false;
  s.health_problems = {"actor builder has not answered a heartbeat for 31s"};
  s.in_flight = StatusSnapshot::InFlight{4, kT0 + minutes(21), 1.25};
  s.backlog_partitions = 2;
  s.not_eligible = {PendingInput{kT0 + minutes(15), kT0 + minutes(22), 3, 999, "not eligible until ..."}};
  s.idle_reason = "";
  std::vector<BatchProgress> batches = {Committed(2, kT0 + minutes(19), 100), Committed(3, kT0 + minutes(20), 600)};
  batches[1].outcome = BatchOutcome::kFailed;
  batches[1].message = "Unavailable: put x";
  auto d = Parse(EncodeStatusJson(s, batches));
  EXPECT_FALSE(d["healthy"].GetBool());
  EXPECT_STREQ(d["health_problems"][0].GetString(), s.health_problems[0].c_str());
  const auto& st = d["state"];
  EXPECT_STREQ(st["watermark"].GetString(), FormatRfc3339(kT0 + minutes(10)).c_str());
  EXPECT_EQ(st["freshness_lag_seconds"].GetDouble(), 360);
  EXPECT_STREQ(st["last_commit"].GetString(), FormatRfc3339(kT0 + minutes(20)).c_str());
  EXPECT_EQ(st["batch_in_flight"]["batch_id"].GetUint64(), 4u);
  EXPECT_EQ(st["batch_in_flight"]["running_seconds"].GetDouble(), 1.25);
  EXPECT_EQ(st["backlog_partitions"].GetUint64(), 2u);
  ASSERT_EQ(st["not_eligible"].Size(), 1u);
  EXPECT_STREQ(st["not_eligible"][0]["partition"].GetString(), FormatRfc3339(kT0 + minutes(15)).c_str());
  EXPECT_STREQ(st["not_eligible"][0]["eligible_at"].GetString(), FormatRfc3339(kT0 + minutes(22)).c_str());
  EXPECT_EQ(st["not_eligible"][0]["bytes"].GetUint64(), 999u);

  const auto& b = d["recent_batches"];
  ASSERT_EQ(b.Size(), 2u);
  EXPECT_EQ(b[0]["batch_id"].GetUint64(), 2u);
  EXPECT_TRUE(b[0]["input"]["records_per_second"].IsNull());  // no previous trigger
  EXPECT_EQ(b[1]["input"]["records_per_second"].GetDouble(), 10);  // 600 records over 60 s
  EXPECT_EQ(b[0]["processed_records_per_second"].GetDouble(), 50);  // 100 over 2 s
  EXPECT_STREQ(b[1]["outcome"].GetString(), "failed");
  EXPECT_STREQ(b[1]["message"].GetString(), "Unavailable: put x");
  EXPECT_EQ(b[0]["durations_seconds"]["build"].GetDouble(), 1.5);
  EXPECT_EQ(b[0]["durations_seconds"]["total"].GetDouble(), 2.0);
  EXPECT_EQ(b[0]["durations_seconds"]["commit"].GetDouble(), 0);
  EXPECT_EQ(b[0]["input"]["bad_records"].GetUint64(), 1u);
  EXPECT_EQ(b[0]["output"]["terms"].GetUint64(), 70u);
  EXPECT_EQ(b[0]["freshness_lag_seconds"].GetDouble(), 42);
  EXPECT_EQ(b[0]["since_trigger_seconds"].GetDouble(), 2.25);
  EXPECT_TRUE(b[0]["full_generation"].IsNull());
  EXPECT_STREQ(b[0]["window"]["end"].GetString(), FormatRfc3339(kT0 + minutes(19)).c_str());
}

TEST(StatusJsonTest, AnyMessageStaysValidJson) {
  StatusSnapshot s;
  BatchProgress p = Committed(1, kT0, 0);
  p.message = std::string("quote \" backslash \\ newline \n tab \t nul ") + '\0' + " </script> \xe2\x80\xa8 end";
  p.freshness_lag_seconds = -1;
  p.since_trigger_seconds = -1;
  p.seconds(Stage::kBuild) = std::nan("");
  auto d = Parse(EncodeStatusJson(s, {p}));
  EXPECT_EQ(std::string(d["recent_batches"][0]["message"].GetString(), d["recent_batches"][0]["message"].GetStringLength()),
            p.message);
  EXPECT_TRUE(d["recent_batches"][0]["freshness_lag_seconds"].IsNull());
  EXPECT_TRUE(d["recent_batches"][0]["since_trigger_seconds"].IsNull());
  EXPECT_TRUE(d["recent_batches"][0]["durations_seconds"]["build"].IsNull());
  EXPECT_TRUE(d["recent_batches"][0]["processed_records_per_second"].IsNull());  // total is NaN
}

// The log's progress line: the stages, their sum, and trigger -> committed
// (what lies between the stages shows as the difference).
TEST(StatusJsonTest, TheProgressLineSaysHowLongSinceTheTrigger) {
  BatchProgress p = Committed(3, kT0, 100);
  p.since_trigger_seconds = 2.25;
  const std::string line = FormatProgressLine(p);
  EXPECT_NE(line.find(" total_ms=2000"), std::string::npos) << line;
  EXPECT_NE(line.find(" since_trigger_ms=2250"), std::string::npos) << line;
  p.since_trigger_seconds = -1;
  EXPECT_EQ(FormatProgressLine(p).find("since_trigger_ms"), std::string::npos);
}

}  // namespace
}  // namespace freshet
