// The `freshet` binary under test ($FRESHET_BIN, set by CTest) and the runs
// the end-to-end tests make of it. Every run's stdout/stderr go to
// <work_dir>/logs/<n>-<subcommand>.{out,err} (kept with FRESHET_KEEP_TEMP).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "e2e/child_process.h"

namespace freshet::e2e {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// $FRESHET_BIN, or "" (the caller skips or fails).
std::string FreshetBinary();

// A config for the flat documents `freshet gen --flat` writes, triggered
// once (available_now), with no admin endpoint. URIs come from
// FRESHET_SOURCE_URI / FRESHET_SINK_URI (DaemonEnv).
inline constexpr std::string_view kFlatGenConfig = R"({
  "source": { "layout": "%Y/%m/%d/%H/%M", "partition_interval": "5m" },
  "schema": {
    "id_field": "id", "version_field": "version", "deleted_field": "deleted",
    "type_field": "", "levels": [],
    "text_fields": ["title", "description"],
    "keyword_fields": ["country", "campaign_id", "keywords"],
    "stored_fields": ["title", "url", "country", "campaign_id", "version"],
  },
  "pipeline": { "trigger": "available_now" },
  "admin": { "listen": "" },
}
)";

class FreshetCli {
 public:
  // REQUIRES: work_dir exists.
  explicit FreshetCli(std::string work_dir);

  // A spec for `freshet <args...>` with `env`, its log files assigned and
  // the working directory set to work_dir.
  ProcessSpec Spec(const std::vector<std::string>& args, const EnvVars& env = {});
  RunResult Run(const std::vector<std::string>& args, const EnvVars& env = {},
                std::chrono::milliseconds timeout = std::chrono::minutes(3));

  // `freshet gen --out <out_dir> <args...>`, expecting exit 0.
  ::testing::AssertionResult Gen(const std::string& out_dir, const std::vector<std::string>& args);

  // The environment of a daemon run over local directories: source and
  // sink URIs, no admin endpoint (tests run in parallel), plus `extra`.
  static EnvVars DaemonEnv(const std::string& source_dir, const std::string& sink_dir, const EnvVars& extra = {});
  // The argument list of `run` with this trigger (and config file, if any).
  static std::vector<std::string> RunArgs(const std::string& trigger = "available_now",
                                          const std::string& config = "");
  RunResult RunDaemon(const std::string& source_dir, const std::string& sink_dir, const EnvVars& extra = {},
                      const std::string& trigger = "available_now", const std::string& config = "");

  // Variables every run gets, before its own (e.g. how to reach S3).
  void set_base_env(EnvVars env) { base_env_ = std::move(env); }

  // `freshet query --sink <sink> [--any] -- <clauses...>`: the ids printed,
  // `sink_dir` is a directory or a store URI ("s3://bucket/prefix");
  // in output order; failure unless it exits 0.
  ::testing::AssertionResult Query(const std::string& sink_dir, const std::vector<std::string>& clauses, bool any,
                                   std::vector<std::string>* ids);

  const std::string& work_dir() const { return work_dir_; }

 private:
  std::string work_dir_;
  EnvVars base_env_;
  int runs_ = 0;
};

}  // namespace freshet::e2e
