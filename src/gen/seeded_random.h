// The generator's random numbers: a small, fully specified PRNG.
//
// Why not <random>: the standard distributions are implementation-defined,
// so the same seed could give different bytes on another standard library.
// Everything here is defined bit for bit, so `freshet gen` output depends
// only on the seed and the options.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace freshet::gen {

// SplitMix64's finalizer: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Folds several values into one seed, order-sensitive. Used to give each
// entity revision, partition and object its own independent stream, so that
// (for instance) changing the LZ4 share does not change any record text.
inline uint64_t MixSeed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  for (uint64_t p : parts) h = Mix64(h ^ Mix64(p));
  return h;
}

// SplitMix64 generator. Not cryptographic; plenty for synthetic data.
class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n). REQUIRES: n > 0. Lemire's multiply-shift; the tiny
  // bias is irrelevant here and the mapping is exactly specified.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0: never, p >= 1: always).
  bool Chance(double p) { return Unit() < p; }

 private:
  uint64_t state_;
};

}  // namespace freshet::gen
