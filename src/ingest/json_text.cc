#include "ingest/json_text.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

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

// The end of the JSON string literal starting at text[i] (a '"'), or npos.
size_t StringEnd(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The end of the canonical value starting at text[i], or npos.
size_t ValueEnd(std::string_view text, size_t i) {
  if (i >= text.size()) return std::string_view::npos;
  if (text[i] == '"') return StringEnd(text, i);
  if (text[i] != '{' && text[i] != '[') {
    while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']') ++i;
    return i;
  }
  size_t depth = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      i = StringEnd(text, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return std::string_view::npos;
}

}  // namespace

bool SplitCanonicalObject(std::string_view object,
                          std::vector<std::pair<std::string_view, std::string_view>>* out) {
  out->clear();
  if (object.size() < 2 || object.front() != '{' || object.back() != '}') return false;
  size_t i = 1;
  if (object.size() == 2) return true;
  for (;;) {
    if (object[i] != '"') return false;
    const size_t key_end = StringEnd(object, i);
    if (key_end == std::string_view::npos || key_end >= object.size() || object[key_end] != ':') return false;
    const size_t value_end = ValueEnd(object, key_end + 1);
    if (value_end == std::string_view::npos || value_end >= object.size() || value_end == key_end + 1) return false;
    out->emplace_back(object.substr(i, key_end - i), object.substr(key_end + 1, value_end - key_end - 1));
    if (object[value_end] == '}') return value_end + 1 == object.size();
    if (object[value_end] != ',') return false;
    i = value_end + 1;
  }
}

JsonNumber ParseJsonNumber(std::string_view text) {
  JsonNumber n;
  const bool minus = !text.empty() && text[0] == '-';
  const std::string_view digits = text.substr(minus ? 1 : 0);
  const bool integer = digits.find_first_of(".eE") == std::string_view::npos;
  if (integer && digits.size() <= 20) {
    // At most 20 digits: accumulate with overflow checks (2^64 - 1 has 20).
    uint64_t v = 0;
    bool fits = true;
    for (char c : digits) {
      const auto d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) {
        fits = false;
        break;
      }
      v = v * 10 + d;
    }
    if (fits && !minus) {
      n.kind = v <= UINT32_MAX ? JsonNumber::kUint : JsonNumber::kUint64;
      n.u = v;
      return n;
    }
    if (fits && v <= uint64_t{1} << 63) {
      n.kind = v <= uint64_t{1} << 31 ? JsonNumber::kInt : JsonNumber::kInt64;
      n.i = v == uint64_t{1} << 63 ? INT64_MIN : -static_cast<int64_t>(v);
      return n;
    }
  }
  // A fraction, an exponent, or an integer too wide for 64 bits: a double.
  n.kind = JsonNumber::kDouble;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n.d);
  if (ec == std::errc()) return n;
  // Out of range (from_chars leaves the value alone): beyond the largest
  // double, or below the smallest denormal. The decimal exponent of the
  // first significant digit tells which: a finite double is < 1.8e308.
  int64_t exponent = 0;  // of the written exponent, saturated
  const size_t e = digits.find_first_of("eE");
  if (e != std::string_view::npos) {
    size_t k = e + 1;
    const bool exp_minus = k < digits.size() && digits[k] == '-';
    if (k < digits.size() && (digits[k] == '+' || digits[k] == '-')) ++k;
    for (; k < digits.size(); ++k) exponent = std::min<int64_t>(exponent * 10 + (digits[k] - '0'), int64_t{1} << 40);
    if (exp_minus) exponent = -exponent;
  }
  const std::string_view mantissa = digits.substr(0, e);
  const size_t point = std::min(mantissa.find('.'), mantissa.size());
  const size_t first = mantissa.find_first_not_of("0.");
  if (first == std::string_view::npos) {  // all zeros: from_chars would not have failed
    n.d = minus ? -0.0 : 0.0;
    return n;
  }
  // The value is d.ddd x 10^magnitude for the first significant digit.
  const int64_t magnitude = exponent + (first < point ? static_cast<int64_t>(point - first) - 1
                                                      : -static_cast<int64_t>(first - point));
  if (magnitude > 0) {
    n.kind = JsonNumber::kTooBig;
  } else {
    n.d = minus ? -0.0 : 0.0;
  }
  return n;
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
