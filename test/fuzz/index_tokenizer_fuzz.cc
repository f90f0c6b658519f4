// Tokenize() must accept any bytes: non-empty, valid UTF-8 tokens for valid
// UTF-8 input, kInvalidArgument for anything else, in agreement with
// IsValidUtf8().
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "index/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = freshet::Tokenize(in);
  if (r.ok() != freshet::IsValidUtf8(in)) std::abort();
  if (!r.ok()) {
    if (r.status().code() != freshet::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const std::string& t : *r) {
    if (t.empty() || !freshet::IsValidUtf8(t)) std::abort();
  }
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  return {"Hello, World 42", "Straße ＡＢＣ１ ﬁne Café", "ΑΘΗΝΑ Москва 東京タワー",
          "x\xF0\x9F\x98\x80y", "Cafe\xCC\x81 x² Ⅻ", "ok\xC3", "\xED\xA0\x80"};
}
