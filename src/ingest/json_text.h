// Small JSON text helpers the build module shares: escaping, reading the
// canonical values stored in EntityRecord::fields_json, and making excerpts
// of untrusted bytes printable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet {

// Appends `s` as a JSON string literal: '"', '\\' and control characters
// are escaped (\b \f \n \r \t or \u00XX), everything else is copied as is.
// This is the one escaping rule of canonical JSON in freshet.
void AppendJsonString(std::string* out, std::string_view s);

// Decodes a JSON string literal (with its quotes). Returns a view into
// `quoted` when there is nothing to unescape, else into *scratch.
// REQUIRES: `quoted` is a well-formed JSON string literal (e.g. a canonical
// value span); anything else yields the literal's raw inner bytes.
std::string_view JsonStringValue(std::string_view quoted, std::string* scratch);

// Splits a canonical JSON scalar or flat array of scalars into its elements'
// texts: a scalar yields itself, "[a,b]" yields "a" and "b".
// REQUIRES: canonical JSON (no whitespace), arrays holding no arrays/objects.
void SplitCanonicalScalars(std::string_view canonical, std::vector<std::string_view>* out);

// Splits a canonical JSON object ("{...}" without whitespace, as freshet
// writes records and stored documents) into its members, in order:
// (*out)[k] = {quoted key, value text}. False (out unspecified) when
// `object` is not such an object.
bool SplitCanonicalObject(std::string_view object,
                          std::vector<std::pair<std::string_view, std::string_view>>* out);

// A JSON number token's value, typed as rapidjson types numbers so that
// canonical JSON keeps its integers and doubles apart: an integer (no
// fraction, no exponent) that fits 32 bits is kUint (>= 0) or kInt (< 0;
// "-0" too), one that fits 64 bits kUint64 or kInt64, anything else a
// double, correctly rounded (std::from_chars), or kTooBig when its
// magnitude exceeds the largest double; one below the smallest denormal is
// a zero of its sign.
//
// Why not rapidjson's own conversion: 1.1's full-precision path
// (kParseFullPrecisionFlag) has undefined behaviour on zeros with an
// exponent ("0e90"), zeros with more than 22 fraction digits, and digits
// starting with 2^64 - 1 then one >= 5 (each found by UBSan under
// libFuzzer: clz(0) in diyfp.h), and its normal path is not correctly
// rounded. The record parser asks rapidjson for the number's text instead
// (kParseNumbersAsStringsFlag) and converts it here.
struct JsonNumber {
  enum Kind { kUint, kInt, kUint64, kInt64, kDouble, kTooBig };
  Kind kind = kUint;
  uint64_t u = 0;  // kUint, kUint64
  int64_t i = 0;   // kInt, kInt64
  double d = 0;    // kDouble
};
// REQUIRES: `text` is a number as JSON's grammar allows it
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), as rapidjson's reader
// hands it over.
JsonNumber ParseJsonNumber(std::string_view text);

// The first `max_bytes` bytes of `raw` as valid UTF-8: well-formed
// sequences are kept, every other byte becomes the four characters "\xNN".
// A well-formed sequence straddling the limit is dropped whole.
std::string Utf8Excerpt(std::string_view raw, size_t max_bytes);

}  // namespace freshet
