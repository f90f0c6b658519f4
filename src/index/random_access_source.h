// Positional reads of one immutable file of a segment, wherever it lives
// (memory, local disk, an object store with range GETs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/spool_file.h"
#include "freshet/status.h"

namespace freshet {

// Thread-safety: implementations must allow concurrent Read() calls.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;

  // Total size of the file in bytes. Constant over the object's life.
  virtual uint64_t size() const = 0;

  // Returns exactly `length` bytes starting at `offset`.
  // REQUIRES: offset + length <= size(); otherwise kInvalidArgument.
  // Transport failures keep their own codes (kUnavailable, kNotFound, ...).
  virtual Result<std::string> Read(uint64_t offset, uint64_t length) const = 0;
};

// An in-memory source owning `bytes`.
std::unique_ptr<RandomAccessSource> StringSource(std::string bytes);
// An in-memory source over `bytes`, which must outlive it (a generation
// just built, read before it is committed).
std::unique_ptr<RandomAccessSource> StringViewSource(std::string_view bytes);
// A source over a spool file (base/spool_file.h), which it keeps alive.
std::unique_ptr<RandomAccessSource> SpoolSource(std::shared_ptr<const SpoolFile> file);

}  // namespace freshet
