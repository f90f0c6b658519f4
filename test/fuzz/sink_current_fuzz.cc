// DecodeCurrent must be total: any bytes give a value or an error, never a
// crash; what decodes re-encodes to something that decodes to the same.
#include <cstdlib>
#include <string>
#include <vector>

#include "sink/sink_layout.h"

std::vector<std::string> FreshetFuzzSeeds() {
  freshet::CurrentPointer c;
  c.full = "full/20261122T120000Z-00000000000000aa";
  c.delta = "delta/20261122T140500Z-00000000000000bb";
  c.watermark = freshet::FromUnixMillis(1'764'000'000'000);
  c.checkpoint.watermark = c.watermark;
  c.checkpoint.base_generation = c.full;
  c.checkpoint.delta_generation = c.delta;
  c.checkpoint.recent.push_back({3, freshet::BatchKind::kDelta, c.watermark, c.full, c.delta});
  return {freshet::EncodeCurrent(c), freshet::EncodeCurrent(freshet::CurrentPointer{})};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = freshet::DecodeCurrent(in);
  if (c.ok()) {
    auto again = freshet::DecodeCurrent(freshet::EncodeCurrent(*c));
    if (!again.ok() || !(*again == *c)) std::abort();
  }
  return 0;
}
