#include "ingest/json_text.h"

#include <cctype>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace freshet {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[i];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  if (p[i + 1] < lo || p[i + 1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads \uXXXX at s[i] (pointing at the 'u'); returns the unit or -1.
int32_t ReadHex4(std::string_view s, size_t i) {
  if (s.size() - i < 5) return -1;
  int32_t v = 0;
  for (size_t k = 1; k <= 4; ++k) {
    const int h = HexValue(s[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(u, 6);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::string_view JsonStringValue(std::string_view quoted, std::string* scratch) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return quoted;
  const std::string_view inner = quoted.substr(1, quoted.size() - 2);
  const size_t first = inner.find('\\');
  if (first == std::string_view::npos) return inner;
  scratch->assign(inner.data(), first);
  for (size_t i = first; i < inner.size(); ++i) {
    const char c = inner[i];
    if (c != '\\' || i + 1 == inner.size()) {
      scratch->push_back(c);
      continue;
    }
    const char e = inner[++i];
    switch (e) {
      case 'b': scratch->push_back('\b'); break;
      case 'f': scratch->push_back('\f'); break;
      case 'n': scratch->push_back('\n'); break;
      case 'r': scratch->push_back('\r'); break;
      case 't': scratch->push_back('\t'); break;
      case 'u': {
        int32_t unit = ReadHex4(inner, i);
        if (unit < 0) {
          scratch->push_back(e);
          break;
        }
        i += 4;
        uint32_t cp = static_cast<uint32_t>(unit);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < inner.size() && inner[i + 1] == '\\' &&
            inner[i + 2] == 'u') {
          const int32_t low = ReadHex4(inner, i + 2);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(scratch, cp);
        break;
      }
      default: scratch->push_back(e);  // '"', '\\', '/'
    }
  }
  return *scratch;
}

void SplitCanonicalScalars(std::string_view canonical, std::vector<std::string_view>* out) {
  if (canonical.empty()) return;
  if (canonical.front() != '[') {
    out->push_back(canonical);
    return;
  }
  size_t i = 1;
  const size_t end = canonical.size() - 1;  // the closing ']'
  while (i < end) {
    const size_t start = i;
    if (canonical[i] == '"') {
      ++i;
      while (i < end && canonical[i] != '"') i += canonical[i] == '\\' ? 2 : 1;
      ++i;  // the closing quote
    } else {
      while (i < end && canonical[i] != ',') ++i;
    }
    if (i > end) i = end;
    out->push_back(canonical.substr(start, i - start));
    ++i;  // the ',' (or past the end)
  }
}

namespace {

// A zero that rapidjson 1.1 reads as garbage: one with an exponent, or one
// whose all-zero fraction has more than this many digits (its power of ten
// then leaves the fast path: 0.{23 zeros} is 0 * 10^-23).
constexpr size_t kMaxZeroFractionDigits = 22;

// The other number it misreads: significant digits that start with
// 2^64 - 1 and go on with a digit >= 5. StrtodDiyFp then rounds its 64-bit
// significand up, it wraps to 0, and clz(0) follows (the campaign's third
// find). Setting that 21st digit to '4' stops the round-up and cannot move
// the double: 20 digits are already far below a double's precision.
constexpr std::string_view kUint64MaxDigits = "18446744073709551615";

// True when `text` might hold such a zero: it holds "0e" or "0E" (the last
// digit before the exponent is a '0', of the integer part or the all-zero
// fraction), or a run of more than kMaxZeroFractionDigits '0's. Sixteen
// bytes per step where SSE2 exists (every x86-64).
bool MightHoldTroublesomeNumber(const char* text, size_t size) {
  if (size == 0) return false;
  auto is_digit_or_dot = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
  size_t i = 1;
  size_t run = text[0] == '0' ? 1 : 0;                 // '0's ending just before byte i
  size_t digits = is_digit_or_dot(text[0]) ? 1 : 0;  // digits and '.'s likewise
#if defined(__SSE2__)
  const __m128i zero = _mm_set1_epi8('0'), e = _mm_set1_epi8('e'), lower = _mm_set1_epi8(0x20);
  const __m128i nine = _mm_set1_epi8(9), dot = _mm_set1_epi8('.');
  for (; i + 16 <= size; i += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i));
    const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i - 1));
    const __m128i is_e = _mm_cmpeq_epi8(_mm_or_si128(block, lower), e);
    if (_mm_movemask_epi8(_mm_and_si128(is_e, _mm_cmpeq_epi8(before, zero))) != 0) return true;
    // Runs across blocks: `count` bytes of the mask open the block, the
    // run so far grows by them, and the bytes closing it start the next.
    auto runs = [](unsigned mask, size_t* count, size_t limit) {
      if (mask == 0xFFFF) {
        *count += 16;
        return *count > limit;
      }
      *count += static_cast<size_t>(__builtin_ctz(~mask));
      if (*count > limit) return true;
      *count = static_cast<size_t>(__builtin_clz(~mask & 0xFFFF)) - 16;
      return *count > limit;
    };
    const unsigned zeros = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, zero)));
    if (runs(zeros, &run, kMaxZeroFractionDigits)) return true;
    const __m128i d = _mm_sub_epi8(block, zero);  // a digit becomes 0..9, unsigned
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
    const unsigned num = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(is_digit, _mm_cmpeq_epi8(block, dot))));
    if (runs(num, &digits, kUint64MaxDigits.size())) return true;
  }
#endif
  for (; i < size; ++i) {
    if ((text[i] | 0x20) == 'e' && text[i - 1] == '0') return true;
    run = text[i] == '0' ? run + 1 : 0;
    if (run > kMaxZeroFractionDigits) return true;
    digits = is_digit_or_dot(text[i]) ? digits + 1 : 0;
    if (digits > kUint64MaxDigits.size()) return true;
  }
  return false;
}

}  // namespace

size_t RewriteZeroExponents(char* text, size_t size) {
  // Every record's line goes through here: first a quick test that
  // returns on the lines (nearly all) with no such number; the scan below
  // runs on the rare one that might have one.
  if (!MightHoldTroublesomeNumber(text, size)) return 0;
  size_t rewritten = 0;
  auto digit = [&](size_t i) { return i < size && text[i] >= '0' && text[i] <= '9'; };
  size_t i = 0;
  while (i < size) {
    const char c = text[i];
    if (c == '"') {  // skip the string, escapes included
      for (++i; i < size && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    const bool starts_number = c == '-' || (c >= '0' && c <= '9');
    if (!starts_number || (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.' ||
                                     text[i - 1] == '+' || text[i - 1] == '-'))) {
      ++i;
      continue;
    }
    // -? int frac? exp?, with int = "0" | [1-9][0-9]*.
    const size_t start = i;
    size_t j = i + (c == '-' ? 1 : 0);
    const size_t int_start = j;
    while (digit(j)) ++j;
    const bool int_is_zero = j == int_start + 1 && text[int_start] == '0';
    bool frac_zero = true;
    size_t frac_digits = 0;
    if (j < size && text[j] == '.') {
      const size_t frac_start = ++j;
      for (; digit(j); ++j) {
        if (text[j] != '0') frac_zero = false;
      }
      frac_digits = j - frac_start;
      if (j == frac_start) frac_zero = false;  // "0." is not a number: leave it to the parser
    }
    // Significant digits starting with 2^64 - 1 then one >= 5 (see
    // kUint64MaxDigits): leading zeros and the point do not count.
    {
      size_t seen = 0;
      for (size_t k = int_start; k < j; ++k) {
        if (text[k] == '.' || (seen == 0 && text[k] == '0')) continue;
        if (seen == kUint64MaxDigits.size()) {
          if (text[k] >= '5') {
            text[k] = '4';
            ++rewritten;
          }
          break;
        }
        if (text[k] != kUint64MaxDigits[seen]) break;
        ++seen;
      }
    }
    bool has_exp = false;
    if (j < size && (text[j] == 'e' || text[j] == 'E')) {
      size_t k = j + 1;
      if (k < size && (text[k] == '+' || text[k] == '-')) ++k;
      const size_t exp_start = k;
      while (digit(k)) ++k;
      has_exp = k > exp_start;
      if (has_exp) j = k;
    }
    if (int_is_zero && frac_zero && (has_exp || frac_digits > kMaxZeroFractionDigits)) {
      const std::string_view zero = c == '-' ? "-0.0" : "0.0";
      std::memcpy(text + start, zero.data(), zero.size());  // the token is at least as long: "0e5"
      std::memset(text + start + zero.size(), ' ', j - start - zero.size());
      ++rewritten;
    }
    i = j > start ? j : start + 1;
  }
  return rewritten;
}

std::string Utf8Excerpt(std::string_view raw, size_t max_bytes) {
  const std::string_view head = raw.substr(0, max_bytes);
  std::string out;
  out.reserve(head.size());
  size_t i = 0;
  while (i < head.size()) {
    const size_t len = Utf8SequenceLength(raw, i);
    if (len != 0 && i + len <= head.size()) {
      out.append(head.data() + i, len);
      i += len;
    } else if (len != 0) {
      break;  // a valid character cut by the limit: drop it whole
    } else {
      const auto c = static_cast<unsigned char>(head[i]);
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, 4);
      ++i;
    }
  }
  return out;
}

}  // namespace freshet
