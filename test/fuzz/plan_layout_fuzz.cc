// Fuzzes PartitionLayout: ParseKey on arbitrary bytes under both shipped
// patterns must return nullopt or a time whose folder is exactly the
// input's prefix, never crash. The same bytes are also tried as a pattern:
// Create must reject them with kInvalidArgument or give a layout whose
// Format output parses back to the time formatted.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plan/partition_layout.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

const freshet::PartitionLayout& Slashes() {
  static const freshet::PartitionLayout l = *freshet::PartitionLayout::Create("%Y/%m/%d/%H/%M", std::chrono::minutes(5));
  return l;
}
const freshet::PartitionLayout& Hive() {
  static const freshet::PartitionLayout l =
      *freshet::PartitionLayout::Create("dt=%Y-%m-%d/hr=%H/min=%M", std::chrono::minutes(5));
  return l;
}

void CheckParse(const freshet::PartitionLayout& layout, std::string_view key) {
  std::string_view rest;
  auto t = layout.ParseKey(key, &rest);
  if (!t) return;
  Check(layout.Floor(*t) == *t);
  std::string folder = layout.Format(*t);
  Check(key.substr(0, folder.size()) == folder);
  Check(rest == key.substr(folder.size()));
}

}  // namespace

std::vector<std::string> FreshetFuzzSeeds() {
  return {"2026/11/22/14/05/part-0.json", "2028/02/29/23/55/", "dt=2026-11-22/hr=14/min=05/part-0.json.lz4",
          "dt=2000-02-29/hr=00/min=00/", "%Y/%m/%d/%H/%M", "dt=%Y-%m-%d/hr=%H/min=%M", "%Y%m%d/%H%M%S/"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckParse(Slashes(), text);
  CheckParse(Hive(), text);

  if (size > 256) return 0;
  for (auto interval : {std::chrono::milliseconds(std::chrono::minutes(5)), std::chrono::milliseconds(1000)}) {
    auto layout = freshet::PartitionLayout::Create(text, interval);
    if (!layout.ok()) {
      Check(layout.status().code() == freshet::StatusCode::kInvalidArgument);
      continue;
    }
    const freshet::TimePoint t = freshet::FromUnixMillis(1'795'356'300'000);  // 2026-11-22T14:05:00Z
    std::string folder = layout->Format(t);
    Check(layout->ParseKey(folder) == t);
    CheckParse(*layout, text);
  }
  return 0;
}
