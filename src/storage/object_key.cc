#include "storage/object_key.h"

#include <string>

namespace freshet {
namespace {

// Quotes a key for an error message; control bytes are escaped so a bad
// key cannot garble a log line.
std::string Quote(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  size_t n = key.size() > 200 ? 200 : key.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < key.size()) out += "...";
  out += "'";
  return out;
}

Status Bad(std::string_view key, std::string_view problem) {
  return Status::InvalidArgument("invalid object key " + Quote(key) + ": " + std::string(problem));
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("invalid object key '': empty");
  if (key.size() > kMaxObjectKeyBytes) return Bad(key, "longer than 1024 bytes");
  if (key.find('\0') != std::string_view::npos) return Bad(key, "contains a NUL byte");
  if (key.front() == '/') return Bad(key, "starts with '/' (keys are relative)");
  if (!IsValidUtf8(key)) return Bad(key, "not valid UTF-8");
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    std::string_view seg = key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return Bad(key, "empty path segment (leading, trailing or doubled '/')");
    if (seg == "." || seg == "..") return Bad(key, "'.' and '..' segments are not allowed");
    if (seg.starts_with(kReservedSegmentPrefix)) {
      return Bad(key, "segments starting with '.freshet-tmp-' are reserved");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

}  // namespace freshet
