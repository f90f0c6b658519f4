// Small JSON text helpers the build module shares: escaping, reading the
// canonical values stored in EntityRecord::fields_json, and making excerpts
// of untrusted bytes printable.
#pragma once

#include <string>
#include <string_view>
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

// rapidjson 1.1's full-precision number parsing (kParseFullPrecisionFlag)
// turns a zero written with an exponent ("0e90", "-0.0E-5") or with more
// than 22 fraction digits ("0." and 23 zeros) into a garbage double: its
// DiyFp normalisation takes clz(0), which is undefined (found by UBSan
// under libFuzzer; "0e90" parsed as -6.6e268); so does a number whose
// significant digits start with 2^64 - 1 (18446744073709551615) and go on
// with a digit >= 5 (its significand wraps to 0 when rounded up): that
// digit is set to '4', which cannot change the double. Rewrites each such
// number outside strings in `text`, in place, to the zero it denotes with
// the same sign and type and the same width ("0.0" or "-0.0", padded with
// spaces), so offsets stay put. Only numbers JSON allows are touched ("00e5"
// stays invalid). Returns how many were rewritten.
size_t RewriteZeroExponents(char* text, size_t size);

// The first `max_bytes` bytes of `raw` as valid UTF-8: well-formed
// sequences are kept, every other byte becomes the four characters "\xNN".
// A well-formed sequence straddling the limit is dropped whole.
std::string Utf8Excerpt(std::string_view raw, size_t max_bytes);

}  // namespace freshet
