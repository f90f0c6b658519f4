#include "index/checksum.h"

#include <xxhash.h>

#include <cstdlib>

namespace freshet {

uint64_t Xxh64(std::string_view data) { return XXH64(data.data(), data.size(), 0); }

std::string Xxh64ToHex(uint64_t digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[digest & 0xF];
    digest >>= 4;
  }
  return out;
}

std::string Xxh64Hex(std::string_view data) { return Xxh64ToHex(Xxh64(data)); }

// XXH64_state_t is opaque unless XXH_STATIC_LINKING_ONLY, which would tie us
// to the shared library's struct layout; allocate it through the API instead.
struct Xxh64Stream::State {
  State() : s(XXH64_createState()) {}
  ~State() { XXH64_freeState(s); }
  XXH64_state_t* s;
};

Xxh64Stream::Xxh64Stream() : state_(std::make_unique<State>()) {
  if (state_->s == nullptr) std::abort();  // out of memory
  XXH64_reset(state_->s, 0);
}
Xxh64Stream::~Xxh64Stream() = default;

void Xxh64Stream::Update(std::string_view data) { XXH64_update(state_->s, data.data(), data.size()); }

uint64_t Xxh64Stream::Digest() const { return XXH64_digest(state_->s); }

}  // namespace freshet
