// Malformed input lines, one per kind of badness freshet must quarantine
// (SPEC §2: bad JSON, wrong type, missing id, invalid UTF-8).
//
// Every line here is bad under any reading of the schema: a record that a
// lenient parser might accept is not generated. Lines that carry an id use
// the reserved 'x' prefix ("x00000017"), never a real entity's id, so a
// ground-truth scan can tell them apart; the only exception is
// kTruncatedJson, a real record cut short, which no JSON parser accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gen/seeded_random.h"

namespace freshet::gen {

// Append only: values are reported in test failures and docs.
enum class MalformedKind : uint8_t {
  kTruncatedJson = 0,     // a good record cut before its closing brace
  kMissingId = 1,         // well-formed object without the id field
  kInvalidUtf8 = 2,       // a string field containing invalid UTF-8 bytes
  kWrongVersionType = 3,  // version neither an integer nor an RFC 3339 time
  kWrongIdType = 4,       // id present but not a string
  kNotAnObject = 5,       // a JSON array or scalar instead of an object
  kWrongDeletedType = 6,  // deleted present but not a boolean
};
inline constexpr int kMalformedKindCount = 7;

const char* MalformedKindName(MalformedKind kind);

// Appends one malformed line, terminated by '\n', to *out and returns its
// kind. `good_line` is a well-formed record line (without '\n') that
// kTruncatedJson cuts; `serial` numbers the 'x' id; `flat` drops the "type"
// field as flat records do. Never emits a raw '\n' inside the line.
// REQUIRES: good_line.size() >= 2.
MalformedKind AppendMalformedLine(SeededRandom& rng, std::string_view good_line, uint64_t serial, bool flat,
                                  int64_t version, std::string* out);

}  // namespace freshet::gen
