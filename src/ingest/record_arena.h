// The block a parsed piece's records are packed into (EntityRecord::Pack)
// when the parser is given one (RecordParser::SetArena).
//
// Why: a record parsed on its own owns three heap blocks (its canonical
// text, its spans, its object key). A full build parses them on the pool
// threads and frees them on the writer's, half a million of each for a
// 500k-document snapshot; packed, a piece's records are a few chunks
// allocated and freed whole, laid out in the order the full reads them.
//
// Not thread-safe: one parser writes it; its records' readers only read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace freshet {

class RecordArena {
 public:
  // Bytes per chunk; an entry larger than that gets a chunk of its own.
  static constexpr size_t kChunkBytes = 256 * 1024;

  RecordArena() = default;
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;

  // `n` bytes, 8-aligned, valid until the arena is destroyed.
  char* Allocate(size_t n) {
    n = (n + 7) / 8 * 8;
    if (n > left_) {
      const size_t size = std::max(n, kChunkBytes);
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      at_ = chunks_.back().get();
      left_ = size;
      reserved_ += size;
    }
    char* p = at_;
    at_ += n;
    left_ -= n;
    return p;
  }

  // Bytes of the chunks allocated.
  size_t reserved() const { return reserved_; }

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* at_ = nullptr;
  size_t left_ = 0;
  size_t reserved_ = 0;
};

}  // namespace freshet
