// ParseManifest must accept any bytes without crashing, refusing them with
// kDataLoss (or kFailedPrecondition for another format_version); whatever it
// accepts must serialize and parse back to the same manifest, byte for byte.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "index/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = freshet::ParseManifest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!m.ok()) {
    // Malformed bytes are kDataLoss; another format_version is
    // kFailedPrecondition (a newer freshet wrote it: upgrade, do not retry).
    const freshet::StatusCode code = m.status().code();
    if (code != freshet::StatusCode::kDataLoss && code != freshet::StatusCode::kFailedPrecondition) std::abort();
    return 0;
  }
  const std::string json = freshet::ManifestToJson(*m);
  auto again = freshet::ParseManifest(json);
  if (!again.ok() || !(*again == *m) || freshet::ManifestToJson(*again) != json) std::abort();
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  freshet::Manifest m;
  m.kind = "delta";
  m.generation = "d-1";
  m.schema_hash = "abc";
  m.base = "f-1";
  m.window_start = "2026-11-22T13:05:00Z";
  m.window_end = "2026-11-22T14:05:00Z";
  m.target = "2026-11-22T14:05:00Z";
  m.watermark = "2026-11-22T14:05:00.250Z";
  m.skipped = {"2026-11-22T14:00:00Z"};
  m.inputs = {{"updates/2026/11/22/14/05/a.json", 10, "\"e1\""}};
  m.counts = {1, 2, 3, 4, 5, 6, 7, 8};
  m.files = {{"ids", 100, "0123456789abcdef"}};
  m.warnings = {"w"};
  freshet::Manifest full;
  full.kind = "full";
  full.generation = "f-1";
  full.snapshot = "2026-11-22T12:00:00Z";
  return {freshet::ManifestToJson(m), freshet::ManifestToJson(full)};
}
