// The table of config keys, shared by the JSON loader, the environment
// overrides and DescribeOptions so that the three can never disagree about
// which keys exist or how a value is spelled. Private to src/config.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"

namespace freshet::config_internal {

// A typed pointer to one field of Options (or of a LevelOptions).
using FieldRef = std::variant<std::string*, Duration*, uint32_t*, uint64_t*, double*, bool*, TriggerMode*,
                              PlanPolicy*, std::vector<std::string>*, std::vector<LevelOptions>*>;

// True for kinds that have a one-string spelling (settable from the
// environment); false for lists.
bool IsScalar(const FieldRef& ref);

template <typename Struct>
struct FieldSpec {
  std::string_view key;          // "grace"
  FieldRef (*ref)(Struct&);      // where the value lives
};

struct SectionSpec {
  std::string_view name;                          // "pipeline"
  std::span<const FieldSpec<Options>> fields;
  bool env_overridable;                           // FRESHET_<SECTION>_<KEY>
};

// Top-level sections in the order DescribeOptions prints them.
std::span<const SectionSpec> Sections();
// Keys of one entry of schema.levels.
std::span<const FieldSpec<LevelOptions>> LevelFields();

// Parses a scalar from its config spelling ("30s", "8", "0.01", "latest").
// The message does not name the key; callers add it.
Status SetScalarFromString(std::string_view text, const FieldRef& ref);

// "\"x\" is not one of a b c; did you mean b?" for enum-like values.
Status NotOneOf(std::string_view text, std::initializer_list<std::string_view> choices);

// Guards ParseDuration: rejects values whose total does not fit comfortably
// in milliseconds (more than ~100 years) before they can overflow.
Result<Duration> ParseConfigDuration(std::string_view text);

// The closest of `candidates` to `word` if it is close enough to be a
// plausible typo (case and '-' vs '_' ignored); "" otherwise.
std::string_view ClosestMatch(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace freshet::config_internal
