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

// The first `max_bytes` bytes of `raw` as valid UTF-8: well-formed
// sequences are kept, every other byte becomes the four characters "\xNN".
// A well-formed sequence straddling the limit is dropped whole.
std::string Utf8Excerpt(std::string_view raw, size_t max_bytes);

}  // namespace freshet
