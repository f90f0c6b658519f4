// Replays a deterministic stream of inputs through LLVMFuzzerTestOneInput
// when libFuzzer is not available (g++ builds). Inputs are seeded random
// bytes and mutations of the seed corpus the target offers through
// FreshetFuzzSeeds(); a crash or sanitizer report fails the CTest test.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional: targets return well-formed examples to mutate.
std::vector<std::string> FreshetFuzzSeeds() __attribute__((weak));

int main(int argc, char** argv) {
  long runs = 10000;
  unsigned seed = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::atol(argv[i] + 7);
    if (std::strncmp(argv[i], "--seed=", 7) == 0) seed = static_cast<unsigned>(std::atol(argv[i] + 7));
  }
  std::vector<std::string> seeds;
  if (FreshetFuzzSeeds) seeds = FreshetFuzzSeeds();
  seeds.push_back("");
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::mt19937_64 rng(seed);
  for (long r = 0; r < runs; ++r) {
    std::string in = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0:  // flip a byte
          if (!in.empty()) in[rng() % in.size()] = static_cast<char>(rng());
          break;
        case 1:  // truncate
          if (!in.empty()) in.resize(rng() % in.size());
          break;
        case 2:  // insert random bytes
          in.insert(in.empty() ? 0 : rng() % in.size(), std::string(1 + rng() % 4, static_cast<char>(rng())));
          break;
        case 3:  // duplicate a slice
          if (!in.empty()) { size_t a = rng() % in.size(); in += in.substr(a, rng() % (in.size() - a + 1)); }
          break;
        default:  // random tail
          for (int k = rng() % 16; k > 0; --k) in.push_back(static_cast<char>(rng()));
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  }
  return 0;
}
