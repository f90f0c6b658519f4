// One LZ4 frame of `plain` (default preferences): an input object as a
// producer writes it compressed. Header-only; link LZ4 (the ingest module
// does).
#pragma once

#include <lz4frame.h>

#include <string>
#include <string_view>

namespace freshet::testing {

inline std::string Lz4FrameOf(std::string_view plain) {
  std::string out(LZ4F_compressFrameBound(plain.size(), nullptr), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), plain.data(), plain.size(), nullptr));
  return out;
}

}  // namespace freshet::testing
