// UTF-8 well-formedness, shared by object keys, record parsing and the
// tokenizer.
#pragma once

#include <string_view>

namespace freshet {

// True when `s` is well-formed UTF-8: no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences.
bool IsValidUtf8(std::string_view s);

}  // namespace freshet
