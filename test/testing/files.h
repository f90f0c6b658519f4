// Reading a whole file in a test.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace freshet::testing {

// The file's bytes; "" when it cannot be read (the caller's assertion
// names the path).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace freshet::testing
