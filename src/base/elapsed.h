// Stage timings: seconds on the steady clock (never the pipeline's Clock,
// which tests move by hand).
#pragma once

#include <chrono>

namespace freshet {

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace freshet
