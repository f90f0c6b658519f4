#include "index/tokenizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace freshet {
namespace {

// Returns the byte offset of the first ill-formed sequence, or s.size() when
// `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF).
size_t FirstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

bool IsAsciiAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// NFKC and case folding are the identity on ASCII except for A-Z, and the
// only ASCII letters/numbers are [A-Za-z0-9], so pure-ASCII input (the common
// case) skips utf8proc's allocation and gives exactly the same tokens.
std::vector<std::string> TokenizeAscii(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !IsAsciiAlnum(static_cast<unsigned char>(s[i]))) ++i;
    if (i == s.size()) break;
    std::string tok;
    while (i < s.size() && IsAsciiAlnum(static_cast<unsigned char>(s[i]))) {
      char c = s[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      tok.push_back(c);
    }
    out.push_back(std::move(tok));
  }
  return out;
}

bool IsLetterOrNumber(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

}  // namespace

Result<std::vector<std::string>> Tokenize(std::string_view utf8) {
  bool ascii = true;
  for (char c : utf8) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return TokenizeAscii(utf8);

  if (size_t bad = FirstInvalidUtf8(utf8); bad != utf8.size()) {
    return Status::InvalidArgument("invalid UTF-8 at byte offset " + std::to_string(bad));
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t len = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
      static_cast<utf8proc_ssize_t>(utf8.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                     UTF8PROC_CASEFOLD));
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(mapped);
  if (len < 0) {
    // Unreachable for validated input; kept so a utf8proc failure (e.g.
    // out of memory) is reported rather than ignored.
    return Status::InvalidArgument(std::string("unicode normalization failed: ") +
                                   utf8proc_errmsg(len));
  }

  std::vector<std::string> out;
  std::string tok;
  utf8proc_ssize_t i = 0;
  while (i < len) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(mapped + i, len - i, &cp);
    if (n <= 0) return Status::Internal("utf8proc produced invalid UTF-8");
    if (IsLetterOrNumber(cp)) {
      tok.append(reinterpret_cast<const char*>(mapped + i), static_cast<size_t>(n));
    } else if (!tok.empty()) {
      out.push_back(std::move(tok));
      tok.clear();
    }
    i += n;
  }
  if (!tok.empty()) out.push_back(std::move(tok));
  return out;
}

}  // namespace freshet
