// ParseQuery over arbitrary clause bytes: an error or a query, never a crash.
#include <string>
#include <vector>

#include "freshet/reader.h"

std::vector<std::string> FreshetFuzzSeeds() {
  return {"country:US\ncafé\ntitle:Straße", "a:b:c\n:\nx:", "\xff\xfe:\x80"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Newlines split the input into clauses.
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') args.emplace_back();
    else args.back().push_back(static_cast<char>(data[i]));
  }
  (void)freshet::ParseQuery(args, size % 2 == 0);
  return 0;
}
