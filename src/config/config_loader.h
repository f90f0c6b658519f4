// Reads freshet's Options from one JSON config file plus FRESHET_*
// environment overrides.
//
// The file is JSON with // and /* */ comments and trailing commas allowed.
// Keys mirror src/config/options.h: `pipeline.grace` is
// Options::pipeline.grace. Missing keys keep their defaults; a config with
// no `schema` section gets DefaultAdsSchema(), while a `schema` section
// starts from SchemaOptions{} (a flat schema) and describes the whole schema.
// Unknown keys, duplicate keys and wrong types are errors whose message reads
// "<origin>:<line>:<column>: <dotted.key>: <problem>", with a suggestion when
// the key looks like a typo ("did you mean pipeline.grace?").
//
// Loading checks syntax and types only; ValidateOptions (validate_options.h)
// checks values and their relations. The daemon's order is:
//   LoadOptionsFromFile -> ApplyEnvOverrides -> ValidateOptions
// which LoadEffectiveOptions bundles.
//
// Pure functions: no globals, safe to call from any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "config/options.h"
#include "freshet/status.h"

namespace freshet {

// Reads and parses `path`. Errors: kNotFound when the file does not exist,
// kInvalidArgument for unreadable, oversized (> 16 MiB) or invalid configs.
Result<Options> LoadOptionsFromFile(const std::string& path);

// Parses `json`; `origin` (a file name, "<env>", "<test>") prefixes every
// error location.
Result<Options> LoadOptionsFromString(std::string_view json, std::string_view origin);

// Looks up FRESHET_<SECTION>_<KEY> for every scalar key of the source, sink,
// pipeline, watchdog, log and admin sections (e.g. FRESHET_SOURCE_URI,
// FRESHET_PIPELINE_TRIGGER_INTERVAL) through `getenv_fn` (std::getenv in
// production, a map in tests) and applies each one that is set, including
// set-but-empty. Values use the config file's syntax ("30s", "latest").
// Errors name the variable. On error *options may be partly updated.
// REQUIRES: options != nullptr.
Status ApplyEnvOverrides(Options* options, const std::function<const char*(const char*)>& getenv_fn);

// LoadOptionsFromFile, then ApplyEnvOverrides, then ValidateOptions.
Result<Options> LoadEffectiveOptions(const std::string& path,
                                     const std::function<const char*(const char*)>& getenv_fn);

// Config spellings of the enums: "interval", "continuous", "once",
// "available_now"; "latest", "sequential".
std::string_view TriggerModeName(TriggerMode mode);
std::string_view PlanPolicyName(PlanPolicy policy);

}  // namespace freshet
