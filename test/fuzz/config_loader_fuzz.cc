// Fuzzes the config loader: any bytes must give an Options or an
// InvalidArgument whose message starts with "<origin>:<line>:<col>: ", never
// a crash, hang or sanitizer report. Loaded configs also go through
// ValidateOptions, DescribeOptions and SchemaHash, and the same bytes are
// tried as an environment override value.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"
#include "config/describe_options.h"
#include "config/schema_hash.h"
#include "config/validate_options.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

const char* const kEnvVars[] = {
    "FRESHET_SOURCE_URI",         "FRESHET_SOURCE_PARTITION_INTERVAL", "FRESHET_SINK_RETAIN_GENERATIONS",
    "FRESHET_PIPELINE_TRIGGER",   "FRESHET_PIPELINE_POLICY",           "FRESHET_PIPELINE_MAX_BAD_RATIO",
    "FRESHET_PIPELINE_GRACE",     "FRESHET_PIPELINE_FETCH_PARALLELISM", "FRESHET_WATCHDOG_MAX_UPTIME",
    "FRESHET_ADMIN_LISTEN",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = freshet::LoadOptionsFromString(text, "fuzz");
  if (!r.ok()) {
    Check(r.status().code() == freshet::StatusCode::kInvalidArgument);
    Check(r.status().message().rfind("fuzz:", 0) == 0);
  } else {
    freshet::Status st = freshet::ValidateOptions(*r);
    Check(st.ok() || st.code() == freshet::StatusCode::kInvalidArgument);
    std::string described = freshet::DescribeOptions(*r);
    Check(!described.empty());
    Check(freshet::SchemaHash(r->schema).size() == 16);
  }

  // The same bytes as the value of one FRESHET_* variable.
  if (size > 0 && std::memchr(data, 0, size) == nullptr) {
    const char* var = kEnvVars[data[0] % (sizeof kEnvVars / sizeof kEnvVars[0])];
    std::string value(text.substr(1));
    freshet::Options o;
    freshet::Status st = freshet::ApplyEnvOverrides(
        &o, [&](const char* name) -> const char* { return std::strcmp(name, var) == 0 ? value.c_str() : nullptr; });
    Check(st.ok() || st.message().rfind(var, 0) == 0);
    if (st.ok()) (void)freshet::ValidateOptions(o);
  }
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  return {
      "{}",
      R"({"source": {"uri": "s3://bucket/p", "layout": "dt=%Y-%m-%d/hr=%H/min=%M", "partition_interval": "5m"},
          "sink": {"uri": "local:///tmp/x", "retain_generations": 3}})",
      R"(// comment
{
  /* block */
  "pipeline": {"trigger": "available_now", "trigger_interval": "1h30m", "policy": "sequential",
               "grace": "0s", "overlap": "5m", "max_window": "12h", "max_bad_ratio": 0.5,
               "fetch_parallelism": 16, "compute_threads": 2, "trigger_pending_bytes": 1e6,},
  "watchdog": {"heartbeat_interval": "5s", "actor_stall": "30s", "max_uptime": "24h",},
  "log": {"level": "debug", "format": "json"},
  "admin": {"listen": "[::1]:0"},
})",
      R"({"schema": {"id_field": "id", "version_field": "version", "deleted_field": "deleted",
          "type_field": "type", "group_field": "ad_group_id",
          "levels": [
            {"name": "campaign", "parent_field": "", "status_field": "status", "active_values": ["ACTIVE"],
             "inherit": ["campaign_name", "advertiser", "country"]},
            {"name": "ad_group", "parent_field": "campaign_id", "status_field": "status",
             "active_values": ["ACTIVE"], "inherit": ["campaign_id", "ad_group_name", "bid_micros"]},
            {"name": "ad", "parent_field": "ad_group_id", "status_field": "status", "active_values": ["ACTIVE"],
             "inherit": []}],
          "text_fields": ["title", "description"], "keyword_fields": ["country", "keywords"],
          "stored_fields": ["title", "url"], "max_field_bytes": 65536, "max_record_bytes": 1048576}})",
      R"({"pipeline": {"gracee": "5s"}})",
      R"({"sink": {"retain_generations": -1}, "log": {"level": null}})",
      "\x01" "999999999999d",
      "\x06" "1h30m",
  };
}
