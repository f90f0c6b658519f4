// Integer division that rounds towards negative infinity, so times before
// 1970 floor to their slot start like times after.
#pragma once

#include <cstdint>

namespace freshet {

// REQUIRES: b != 0.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace freshet
