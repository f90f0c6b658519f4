// DecodeObject must take any bytes under any key: a result or kDataLoss,
// never a crash, never more than the cap. Whatever it returns must round-
// trip: compressing the input as a frame and decoding gives the input back.
#include <lz4frame.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/object_decoder.h"

namespace {

constexpr uint64_t kCap = 1 << 20;

std::string Frame(std::string_view plain, bool content_size) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.contentSize = content_size ? plain.size() : 0;
  std::string out(LZ4F_compressFrameBound(plain.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), plain.data(), plain.size(), &prefs);
  if (LZ4F_isError(n)) std::abort();
  out.resize(n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  freshet::DecodeOptions options;
  options.max_decoded_bytes = kCap;
  for (const char* key : {"part-0.ndjson", "part-0.ndjson.lz4"}) {
    freshet::Result<std::string> r = freshet::DecodeObject(key, in, options);
    if (r.ok()) {
      if (r->size() > kCap) std::abort();
      if (!freshet::HasLz4Magic(in) && *r != in) std::abort();
    } else if (r.status().code() != freshet::StatusCode::kDataLoss) {
      std::abort();
    }
  }
  freshet::Result<std::string> back = freshet::DecodeObject("k.lz4", Frame(in, size % 2 == 0), options);
  if (!back.ok() || *back != in) std::abort();
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  const std::string ndjson = "{\"id\":\"a\",\"version\":1}\n{\"id\":\"b\",\"version\":2}\n";
  return {Frame(ndjson, false), Frame(ndjson, true), Frame("", false), Frame(std::string(5000, 'x'), true) + Frame("y", false),
          ndjson};
}
