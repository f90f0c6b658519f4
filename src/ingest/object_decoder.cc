#include "ingest/object_decoder.h"

#include <lz4frame.h>

#include <algorithm>
#include <memory>

namespace freshet {
namespace {

constexpr uint32_t kLz4FrameMagic = 0x184D2204;
constexpr uint32_t kLz4SkippableMagicMask = 0xFFFFFFF0;
constexpr uint32_t kLz4SkippableMagic = 0x184D2A50;
constexpr size_t kMinOutputChunk = 64 * 1024;

uint32_t ReadLe32(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct DctxDeleter {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};

Status Corrupt(std::string_view key, std::string_view what) {
  std::string m = "object ";
  m.append(key);
  m.append(": ");
  m.append(what);
  return Status::DataLoss(std::move(m));
}

// Decompresses every frame of `in` into *out. Streaming: output grows
// geometrically and is never more than twice what has been produced (and
// never beyond the cap + 1 byte, which is how the cap is detected).
Status DecompressFrames(std::string_view key, std::string_view in, uint64_t cap, std::string* out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return Status::Internal("LZ4F_createDecompressionContext failed");
  }
  std::unique_ptr<LZ4F_dctx, DctxDeleter> dctx(raw);

  // The frame header may declare the content size; use it to size the
  // output once (trusting it only up to the cap).
  size_t src_pos = 0;
  uint64_t initial = std::min<uint64_t>(uint64_t{in.size()} * 4 + kMinOutputChunk, cap + 1);
  if (ReadLe32(in) == kLz4FrameMagic) {
    LZ4F_frameInfo_t info{};
    size_t consumed = in.size();
    const size_t r = LZ4F_getFrameInfo(dctx.get(), &info, in.data(), &consumed);
    if (LZ4F_isError(r)) return Corrupt(key, std::string("corrupt LZ4 frame header: ") + LZ4F_getErrorName(r));
    if (info.contentSize > cap) {
      return Corrupt(key, "LZ4 frame declares " + std::to_string(info.contentSize) +
                              " bytes, above the decode cap of " + std::to_string(cap));
    }
    if (info.contentSize > 0) initial = info.contentSize + 1;  // +1: no regrow before the end mark
    src_pos = consumed;
  }

  out->clear();
  out->resize(static_cast<size_t>(initial));
  size_t produced = 0;
  while (true) {
    if (out->size() - produced < kMinOutputChunk && out->size() <= cap) {
      const uint64_t grown = std::min<uint64_t>(std::max<uint64_t>(out->size() * 2, produced + kMinOutputChunk), cap + 1);
      out->resize(static_cast<size_t>(grown));
    }
    size_t dst_size = out->size() - produced;
    size_t src_size = in.size() - src_pos;
    // Returns a hint of the next input size; 0 means a frame just ended.
    const size_t hint = LZ4F_decompress(dctx.get(), out->data() + produced, &dst_size, in.data() + src_pos, &src_size, nullptr);
    if (LZ4F_isError(hint)) return Corrupt(key, std::string("corrupt LZ4 frame: ") + LZ4F_getErrorName(hint));
    produced += dst_size;
    src_pos += src_size;
    if (produced > cap) {
      return Corrupt(key, "decompressed size exceeds the decode cap of " + std::to_string(cap) + " bytes");
    }
    if (src_pos == in.size() && hint == 0) break;  // every frame complete
    if (dst_size == 0 && src_size == 0) {
      // No progress. There is always output space here (the buffer grows
      // until the cap check above returns), so the input ended mid-frame.
      if (src_pos == in.size()) return Corrupt(key, "truncated LZ4 frame");
      return Corrupt(key, "LZ4 decoder made no progress");
    }
  }
  out->resize(produced);
  return Status::Ok();
}

}  // namespace

bool IsIgnoredObject(std::string_view key, uint64_t size) {
  if (size == 0) return true;
  const size_t slash = key.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  return name.empty() || name.front() == '_' || name.front() == '.';
}

bool HasLz4Magic(std::string_view bytes) {
  if (bytes.size() < 4) return false;
  const uint32_t magic = ReadLe32(bytes);
  return magic == kLz4FrameMagic || (magic & kLz4SkippableMagicMask) == kLz4SkippableMagic;
}

Result<std::string_view> DecodeObjectView(std::string_view key, std::string_view bytes, std::string* storage,
                                          const DecodeOptions& options) {
  if (!HasLz4Magic(bytes)) {
    if (EndsWith(key, ".lz4")) return Corrupt(key, "has a .lz4 suffix but no LZ4 frame magic");
    return bytes;
  }
  Status st = DecompressFrames(key, bytes, options.max_decoded_bytes, storage);
  if (!st.ok()) return st;
  return std::string_view(*storage);
}

Result<std::string> DecodeObject(std::string_view key, std::string bytes, const DecodeOptions& options) {
  if (!HasLz4Magic(bytes)) {
    if (EndsWith(key, ".lz4")) return Corrupt(key, "has a .lz4 suffix but no LZ4 frame magic");
    return bytes;  // implicitly moved (C++20)
  }
  std::string out;
  Status st = DecompressFrames(key, bytes, options.max_decoded_bytes, &out);
  if (!st.ok()) return st;
  return out;
}

}  // namespace freshet
