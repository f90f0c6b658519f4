// The one tokenizer: the same function indexes and queries.
//
// Unicode NFKC normalization with case folding (utf8proc), then tokens are
// the maximal runs of Unicode letters (categories L*) and numbers (N*).
// Everything else (spaces, punctuation, symbols, marks, controls) separates
// tokens. Tokens are returned in order of appearance, duplicates kept.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "freshet/status.h"

namespace freshet {

// REQUIRES: nothing; invalid UTF-8 yields kInvalidArgument naming the byte offset.
Result<std::vector<std::string>> Tokenize(std::string_view utf8);


}  // namespace freshet
