// Fuzzes DecodeCheckpoint: any bytes give a Checkpoint or kDataLoss /
// kFailedPrecondition, never a crash. A decoded checkpoint re-encodes to
// bytes that decode to the same value and encode identically again.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sink/checkpoint.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

std::vector<std::string> FreshetFuzzSeeds() {
  freshet::Checkpoint cp;
  cp.watermark = freshet::FromUnixMillis(1'795'356'300'000);
  cp.base_snapshot = freshet::FromUnixMillis(1'795'348'800'000);
  cp.base_generation = "full/20261122T120000Z-0123456789abcdef";
  cp.delta_generation = "delta/20261122T140500Z-fedcba9876543210";
  cp.build_salt = "schema:9f2c/format:1";
  cp.next_batch_id = 42;
  cp.recent.push_back({40, freshet::BatchKind::kFullAndDelta, cp.base_snapshot, cp.base_generation, "delta/x"});
  cp.recent.push_back({41, freshet::BatchKind::kDelta, std::nullopt, cp.base_generation, cp.delta_generation});
  return {freshet::EncodeCheckpoint(cp), freshet::EncodeCheckpoint(freshet::Checkpoint{})};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cp = freshet::DecodeCheckpoint(text);
  if (!cp.ok()) {
    Check(cp.status().code() == freshet::StatusCode::kDataLoss ||
          cp.status().code() == freshet::StatusCode::kFailedPrecondition);
    return 0;
  }
  std::string once = freshet::EncodeCheckpoint(*cp);
  auto again = freshet::DecodeCheckpoint(once);
  Check(again.ok());
  Check(*again == *cp);
  Check(freshet::EncodeCheckpoint(*again) == once);
  return 0;
}
