// Turns a fetched input object into NDJSON bytes.
//
// Objects are NDJSON, optionally LZ4-frame compressed. Compression is
// detected by content, not name: bytes starting with the LZ4 frame magic
// (0x184D2204, or a skippable-frame magic 0x184D2A5?, little-endian) are
// decompressed whatever the key's suffix; a key ending in ".lz4" whose
// bytes do not start with a magic is corrupt. Everything else passes
// through unchanged.
//
// Pure functions, safe on any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "freshet/status.h"

namespace freshet {

struct DecodeOptions {
  // More decompressed bytes than this make the object corrupt (kDataLoss),
  // so one hostile or broken object cannot exhaust memory.
  // Default: 4 GiB.
  uint64_t max_decoded_bytes = uint64_t{4} << 30;
};

// True for objects the pipeline skips without reading: empty objects,
// folder markers (keys ending in '/'), and objects whose name (the part
// after the last '/') starts with '_' or '.' (`_SUCCESS`, `_metadata`,
// `.part-0000.crc`, in-progress `.tmp` files). Only the name is checked, so
// a bucket prefix such as `_data/` does not hide everything below it.
bool IsIgnoredObject(std::string_view key, uint64_t size);

// True when `bytes` starts with an LZ4 frame (or skippable frame) magic.
bool HasLz4Magic(std::string_view bytes);

// Returns the NDJSON bytes of one object: `bytes` itself when plain, the
// decompressed concatenation of its frames when LZ4.
// Errors: kDataLoss naming `key` for a truncated or corrupt frame, a ".lz4"
// key without the magic, trailing garbage after a frame, or output above
// options.max_decoded_bytes. Never retried: the bytes themselves are bad.
Result<std::string> DecodeObject(std::string_view key, std::string bytes, const DecodeOptions& options = {});

// As DecodeObject, without copying plain objects: returns a view of `bytes`
// when plain, or of *storage (overwritten) when decompressed.
// REQUIRES: storage != nullptr; `bytes` and *storage outlive the view.
Result<std::string_view> DecodeObjectView(std::string_view key, std::string_view bytes, std::string* storage,
                                          const DecodeOptions& options = {});

}  // namespace freshet
