// XXH64 (seed 0), the one checksum of the index format and of manifest.json's
// file list. Values are part of the format: never change the seed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace freshet {

uint64_t Xxh64(std::string_view data);

// 16 lowercase hex digits, most significant first (the XXH64 canonical form).
std::string Xxh64Hex(std::string_view data);
std::string Xxh64ToHex(uint64_t digest);

// Incremental XXH64 over data fed in pieces; same digest as Xxh64() of the
// concatenation. Not thread-safe.
class Xxh64Stream {
 public:
  Xxh64Stream();
  ~Xxh64Stream();
  Xxh64Stream(const Xxh64Stream&) = delete;
  Xxh64Stream& operator=(const Xxh64Stream&) = delete;

  void Update(std::string_view data);
  uint64_t Digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace freshet
