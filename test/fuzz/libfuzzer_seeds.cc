// Linked into the libFuzzer builds of the fuzz targets (FRESHET_LIBFUZZER):
// the well-formed examples a target offers through FreshetFuzzSeeds() (the
// standalone driver mutates them) become libFuzzer corpus entries. With
// FRESHET_FUZZ_SEED_DIR set, the directory is created and each seed written
// there as seed-<n> before fuzzing starts (perf/fuzz_campaign.sh and the
// CTest replays point it at the corpus).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

std::vector<std::string> FreshetFuzzSeeds() __attribute__((weak));

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* dir = std::getenv("FRESHET_FUZZ_SEED_DIR");
  if (dir == nullptr || FreshetFuzzSeeds == nullptr) return 0;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "libfuzzer_seeds: cannot create %s: %s\n", dir, ec.message().c_str());
    return 1;
  }
  const std::vector<std::string> seeds = FreshetFuzzSeeds();
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = std::string(dir) + "/seed-" + std::to_string(i);
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(seeds[i].data(), 1, seeds[i].size(), f);
      std::fclose(f);
    } else {
      std::fprintf(stderr, "libfuzzer_seeds: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
