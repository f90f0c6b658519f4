// Appends one JSON object per line (NDJSON) to a string, without a DOM.
//
// The generator writes hundreds of thousands of records per second; building
// a rapidjson Document per record would dominate the cost. This writer only
// appends, escapes strings correctly (RFC 8259) and never allocates beyond
// the output string's growth.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::gen {

// Appends `s` as a JSON string literal (with quotes) to *out.
// REQUIRES: s is valid UTF-8 when escape_non_ascii is true (the generator's
// own text always is). With escape_non_ascii, every code point above U+007F
// is written as \uXXXX (a surrogate pair above U+FFFF): the same text in the
// form some producers emit, so readers must decode escapes before
// tokenizing.
inline void AppendJsonString(std::string* out, std::string_view s, bool escape_non_ascii = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto append_u = [out](uint32_t unit) {
    char buf[6] = {'\\', 'u', kHex[(unit >> 12) & 0xf], kHex[(unit >> 8) & 0xf], kHex[(unit >> 4) & 0xf],
                   kHex[unit & 0xf]};
    out->append(buf, 6);
  };
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    // Fast path: copy the run of bytes that need no escaping in one append.
    size_t run = i;
    while (run < s.size()) {
      unsigned char b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b == '"' || b == '\\' || (b >= 0x80 && escape_non_ascii)) break;
      ++run;
    }
    if (run > i) {
      out->append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      default: break;
    }
    if (c < 0x20) {
      append_u(c);
    } else if (c < 0x80 || !escape_non_ascii) {
      out->push_back(static_cast<char>(c));
    } else {
      // Decode one UTF-8 sequence (valid by the REQUIRES above).
      uint32_t cp;
      size_t extra;
      if (c >= 0xf0) {
        cp = c & 0x07u; extra = 3;
      } else if (c >= 0xe0) {
        cp = c & 0x0fu; extra = 2;
      } else {
        cp = c & 0x1fu; extra = 1;
      }
      for (size_t k = 0; k < extra && i + 1 < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3fu);
      }
      if (cp > 0xffff) {
        cp -= 0x10000;
        append_u(0xd800 + (cp >> 10));
        append_u(0xdc00 + (cp & 0x3ff));
      } else {
        append_u(cp);
      }
    }
  }
  out->push_back('"');
}

// Builds one object on one line: Begin, fields, End (which adds '\n').
// Field order is the call order, which keeps the output deterministic.
class JsonLineWriter {
 public:
  explicit JsonLineWriter(std::string* out, bool escape_non_ascii = false)
      : out_(out), escape_non_ascii_(escape_non_ascii) {}

  void Begin() {
    out_->push_back('{');
    first_ = true;
  }
  void End() { out_->append("}\n"); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value, escape_non_ascii_);
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_->append(buf, r.ptr);
  }
  void Bool(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? "true" : "false");
  }
  void StringArray(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    out_->push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_->push_back(',');
      AppendJsonString(out_, values[i], escape_non_ascii_);
    }
    out_->push_back(']');
  }
  // Appends `json` verbatim as the value: for deliberately odd values
  // (malformed-line generation). REQUIRES: the caller knows what it writes.
  void Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_->append(json);
  }

 private:
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(out_, key);
    out_->push_back(':');
  }

  std::string* out_;
  bool escape_non_ascii_;
  bool first_ = true;
};

}  // namespace freshet::gen
