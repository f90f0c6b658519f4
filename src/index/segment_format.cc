#include "index/segment_format.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>

#include "index/checksum.h"
#include "index/coding.h"

namespace freshet {
namespace {

constexpr uint64_t kMaxPayload = UINT32_MAX;
// LZ4 cannot expand data by more than ~255x; anything claiming more is
// corrupt, and rejecting it bounds the allocation below.
constexpr uint64_t kMaxLz4Ratio = 256;
constexpr uint64_t kVerifyChunk = 1 << 20;
constexpr uint64_t kOpenTailBytes = 64 * 1024;
// A spooled file goes out in pieces of about this size.
constexpr size_t kSpoolChunk = 1 << 20;


std::string Where(const BlockHandle& h) {
  return "block [" + std::to_string(h.offset) + ", +" + std::to_string(h.size) + ")";
}

bool InRange(BlockHandle handle, uint64_t lo, uint64_t hi) {
  return handle.offset >= lo && handle.offset <= hi && handle.size <= hi - handle.offset &&
         handle.size >= kBlockOverhead;
}

// Checks the stored bytes `raw` of the block at `handle` and returns its
// payload, decompressed.
Result<std::string> DecodeBlock(const OpenedFile& file, BlockHandle handle, std::string raw) {
  if (raw.size() != handle.size || raw.size() < kBlockOverhead) {
    return Corrupt(file, Where(handle) + ": short read");
  }
  const uint8_t type = static_cast<uint8_t>(raw[0]);
  const uint64_t len = DecodeFixed32(raw.data() + 1);
  if (len != handle.size - kBlockOverhead) return Corrupt(file, Where(handle) + ": length mismatch");
  std::string_view payload(raw.data() + kBlockHeaderSize, len);
  const uint64_t want = DecodeFixed64(raw.data() + kBlockHeaderSize + len);
  if (Xxh64(std::string_view(raw.data(), kBlockHeaderSize + len)) != want) {
    return Corrupt(file, Where(handle) + ": checksum mismatch");
  }
  switch (static_cast<BlockType>(type)) {
    case BlockType::kRaw:
      raw.erase(raw.size() - kBlockTrailerSize);
      raw.erase(0, kBlockHeaderSize);
      return raw;
    case BlockType::kLz4: {
      uint64_t raw_len;
      if (!GetVarint64(&payload, &raw_len) || raw_len > payload.size() * kMaxLz4Ratio ||
          raw_len > kMaxPayload) {
        return Corrupt(file, Where(handle) + ": bad LZ4 length");
      }
      std::string out(static_cast<size_t>(raw_len), '\0');
      const int n = LZ4_decompress_safe(payload.data(), out.data(), static_cast<int>(payload.size()),
                                        static_cast<int>(raw_len));
      if (n < 0 || static_cast<uint64_t>(n) != raw_len) {
        return Corrupt(file, Where(handle) + ": LZ4 decompression failed");
      }
      return out;
    }
  }
  return Corrupt(file, Where(handle) + ": unknown block type " + std::to_string(type));
}

// Reads a block that must lie inside [lo, hi).
Result<std::string> ReadBlockIn(const OpenedFile& file, BlockHandle handle, uint64_t lo, uint64_t hi) {
  if (!InRange(handle, lo, hi)) return Corrupt(file, Where(handle) + " outside the data area");
  FRESHET_ASSIGN_OR_RETURN(std::string raw, file.source->Read(handle.offset, handle.size));
  return DecodeBlock(file, handle, std::move(raw));
}

}  // namespace

std::string_view FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kIds: return kIdsFileName;
    case FileKind::kTerms: return kTermsFileName;
    case FileKind::kPostings: return kPostingsFileName;
    case FileKind::kStored: return kStoredFileName;
  }
  return "?";
}

Status Corrupt(const OpenedFile& file, std::string_view what) {
  return Status::DataLoss("segment file '" + file.name + "': " + std::string(what));
}

FileBuilder::FileBuilder(FileKind kind) {
  bytes_.append(kSegmentHeaderMagic);
  PutFixed32(&bytes_, kSegmentFormatVersion);
  PutFixed32(&bytes_, static_cast<uint32_t>(kind));
}

FileBuilder::~FileBuilder() = default;
FileBuilder::FileBuilder(FileBuilder&&) noexcept = default;
FileBuilder& FileBuilder::operator=(FileBuilder&&) noexcept = default;

void FileBuilder::SpoolTo(std::unique_ptr<SpoolWriter> spool) {
  spool_ = std::move(spool);
  checked_ = std::make_unique<Xxh64Stream>();
  whole_ = std::make_unique<Xxh64Stream>();
  checked_->Update(bytes_);  // the header
}

Status FileBuilder::Drain(size_t at_least) {
  if (!status_.ok() || bytes_.size() < at_least || bytes_.empty()) return status_;
  whole_->Update(bytes_);
  status_ = spool_->Append(bytes_);
  flushed_ += bytes_.size();
  bytes_.clear();
  return status_;
}

Result<BlockHandle> FileBuilder::AppendBlock(std::string_view payload, bool try_compress) {
  BlockType type = BlockType::kRaw;
  if (payload.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return Status::InvalidArgument("a block of " + std::to_string(payload.size()) +
                                   " bytes exceeds the format's limit");
  }
  if (try_compress && !payload.empty()) {
    const int bound = LZ4_compressBound(static_cast<int>(payload.size()));
    char varint[10];
    char* const varint_end = EncodeVarint64(varint, payload.size());
    const size_t prefix = static_cast<size_t>(varint_end - varint);
    if (scratch_size_ < prefix + static_cast<size_t>(bound)) {
      scratch_size_ = prefix + static_cast<size_t>(bound);
      scratch_ = std::make_unique_for_overwrite<char[]>(scratch_size_);
    }
    std::memcpy(scratch_.get(), varint, prefix);
    const int n = LZ4_compress_default(payload.data(), scratch_.get() + prefix, static_cast<int>(payload.size()),
                                       bound);
    if (n > 0 && prefix + static_cast<size_t>(n) < payload.size() - payload.size() / 8) {
      type = BlockType::kLz4;
      payload = std::string_view(scratch_.get(), prefix + static_cast<size_t>(n));
    }
  }
  BlockHandle h{offset(), payload.size() + kBlockOverhead};
  const size_t start = bytes_.size();
  bytes_.push_back(static_cast<char>(type));
  PutFixed32(&bytes_, static_cast<uint32_t>(payload.size()));
  bytes_.append(payload);
  PutFixed64(&bytes_, Xxh64(std::string_view(bytes_.data() + start, kBlockHeaderSize + payload.size())));
  if (spool_) {
    // Everything before the footer is covered by its checksum.
    checked_->Update(std::string_view(bytes_).substr(start));
    FRESHET_RETURN_IF_ERROR(Drain(kSpoolChunk));
  }
  return h;
}

Result<BlockHandle> FileBuilder::AddBlock(std::string_view payload, bool try_compress) {
  FRESHET_ASSIGN_OR_RETURN(BlockHandle h, AppendBlock(payload, try_compress));
  ++num_blocks_;
  return h;
}

Status FileBuilder::AppendTail(std::string_view index_payload, uint64_t entries, uint64_t aux) {
  FRESHET_ASSIGN_OR_RETURN(BlockHandle index, AppendBlock(index_payload, false));
  const uint64_t file_checksum = spool_ ? checked_->Digest() : Xxh64(bytes_);
  const size_t footer = bytes_.size();
  PutFixed64(&bytes_, index.offset);
  PutFixed64(&bytes_, index.size);
  PutFixed64(&bytes_, num_blocks_);
  PutFixed64(&bytes_, entries);
  PutFixed64(&bytes_, aux);
  PutFixed64(&bytes_, file_checksum);
  PutFixed64(&bytes_, Xxh64(std::string_view(bytes_.data() + footer, 48)));
  bytes_.append(kSegmentFooterMagic);
  return Status::Ok();
}

Result<std::string> FileBuilder::Finish(std::string_view index_payload, uint64_t entries, uint64_t aux) {
  if (spool_) return Status::Internal("FileBuilder::Finish of a spooled file");
  FRESHET_RETURN_IF_ERROR(AppendTail(index_payload, entries, aux));
  return std::move(bytes_);
}

Result<SpooledFile> FileBuilder::FinishSpooled(std::string_view index_payload, uint64_t entries, uint64_t aux) {
  if (!spool_) return Status::Internal("FileBuilder::FinishSpooled of a file held in memory");
  FRESHET_RETURN_IF_ERROR(AppendTail(index_payload, entries, aux));
  FRESHET_RETURN_IF_ERROR(Drain(0));
  SpooledFile out;
  out.xxh64 = whole_->Digest();
  FRESHET_ASSIGN_OR_RETURN(out.file, spool_->Finish());
  spool_.reset();
  return out;
}

Result<OpenedFile> OpenSegmentFile(FileKind kind, std::unique_ptr<RandomAccessSource> source) {
  OpenedFile f;
  f.name = std::string(FileKindName(kind));
  f.kind = kind;
  f.source = std::move(source);
  if (f.source == nullptr) return Status::Internal("segment file '" + f.name + "': null source");
  f.size = f.source->size();
  if (f.size < kSegmentHeaderSize + kBlockOverhead + kSegmentFooterSize) {
    return Corrupt(f, "truncated: " + std::to_string(f.size) + " bytes");
  }
  // One read of the file's tail usually brings the footer and the index
  // block together (a small file is read whole); sources may be remote, where
  // every read is a request.
  const uint64_t tail_len = std::min(f.size, kOpenTailBytes);
  const uint64_t tail_at = f.size - tail_len;
  FRESHET_ASSIGN_OR_RETURN(std::string tail, f.source->Read(tail_at, tail_len));
  if (tail.size() != tail_len) return Corrupt(f, "short read of footer");
  std::string header;
  if (tail_at == 0) {
    header = tail.substr(0, kSegmentHeaderSize);
  } else {
    FRESHET_ASSIGN_OR_RETURN(header, f.source->Read(0, kSegmentHeaderSize));
    if (header.size() != kSegmentHeaderSize) return Corrupt(f, "short read of header");
  }
  if (std::string_view(header).substr(0, 8) != kSegmentHeaderMagic) return Corrupt(f, "bad magic");
  const uint32_t version = DecodeFixed32(header.data() + 8);
  if (version != kSegmentFormatVersion) {
    return Corrupt(f, "unsupported format version " + std::to_string(version));
  }
  if (DecodeFixed32(header.data() + 12) != static_cast<uint32_t>(kind)) {
    return Corrupt(f, "file kind " + std::to_string(DecodeFixed32(header.data() + 12)) + " where " +
                          f.name + " expected");
  }

  const uint64_t footer_at = f.size - kSegmentFooterSize;
  const std::string_view footer = std::string_view(tail).substr(tail_len - kSegmentFooterSize);
  if (footer.substr(56) != kSegmentFooterMagic) return Corrupt(f, "bad footer magic");
  if (Xxh64(std::string_view(footer.data(), 48)) != DecodeFixed64(footer.data() + 48)) {
    return Corrupt(f, "footer checksum mismatch");
  }
  f.footer.index = {DecodeFixed64(footer.data()), DecodeFixed64(footer.data() + 8)};
  f.footer.num_blocks = DecodeFixed64(footer.data() + 16);
  f.footer.entries = DecodeFixed64(footer.data() + 24);
  f.footer.aux = DecodeFixed64(footer.data() + 32);
  f.footer.file_checksum = DecodeFixed64(footer.data() + 40);
  // The index block is the last block before the footer.
  if (f.footer.index.offset < kSegmentHeaderSize || f.footer.index.offset > footer_at ||
      f.footer.index.end() != footer_at || f.footer.index.size < kBlockOverhead) {
    return Corrupt(f, "index block handle out of range");
  }
  // Every data block is at least kBlockOverhead bytes.
  if (f.footer.num_blocks > (f.footer.index.offset - kSegmentHeaderSize) / kBlockOverhead) {
    return Corrupt(f, "block count exceeds file size");
  }
  if (f.footer.index.offset >= tail_at) {
    std::string raw = tail.substr(f.footer.index.offset - tail_at, f.footer.index.size);
    FRESHET_ASSIGN_OR_RETURN(f.index_payload, DecodeBlock(f, f.footer.index, std::move(raw)));
  } else {
    FRESHET_ASSIGN_OR_RETURN(f.index_payload, ReadBlockIn(f, f.footer.index, kSegmentHeaderSize, footer_at));
  }
  return f;
}

Result<std::string> ReadBlock(const OpenedFile& file, BlockHandle handle) {
  return ReadBlockIn(file, handle, kSegmentHeaderSize, file.data_end());
}

Status VerifyFileChecksum(const OpenedFile& file) {
  Xxh64Stream h;
  const uint64_t end = file.size - kSegmentFooterSize;
  for (uint64_t at = 0; at < end;) {
    const uint64_t n = std::min(kVerifyChunk, end - at);
    FRESHET_ASSIGN_OR_RETURN(std::string chunk, file.source->Read(at, n));
    if (chunk.size() != n) return Corrupt(file, "short read");
    h.Update(chunk);
    at += n;
  }
  if (h.Digest() != file.footer.file_checksum) return Corrupt(file, "file checksum mismatch");
  return Status::Ok();
}

}  // namespace freshet
