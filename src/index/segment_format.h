// Index format v1: the container shared by every file of a segment.
//
// A segment is one generation's index, stored as four files whose names are
// part of the format: "ids", "terms", "postings", "stored". Each file is
//
//   header  (16 bytes)  "FRESHET\0" | fixed32 format_version (1) | fixed32 FileKind
//   block*              data blocks, back to back
//   block               the file's index block (may have an empty payload)
//   footer  (64 bytes)  fixed64 index_offset | fixed64 index_size |
//                       fixed64 num_blocks (data blocks, excluding the index) |
//                       fixed64 entries | fixed64 aux |
//                       fixed64 file_checksum   XXH64 of bytes [0, footer start)
//                       fixed64 footer_checksum XXH64 of the 48 footer bytes before it
//                       "FRSHEND\0"
//
// and every block (data or index) is
//
//   fixed8 BlockType | fixed32 payload_len | payload | fixed64 XXH64(type|len|payload)
//
// A kLz4 payload is varint raw_len followed by one LZ4 block; the writer
// keeps the compressed form only when it saves at least 1/8 (LevelDB's rule).
// All integers are little-endian; varints are LEB128. The meaning of the
// footer's `entries` and `aux` per file:
//
//   ids       entries = docs (including tombstones)   aux = tombstones
//   terms     entries = distinct terms                aux = postings
//   postings  entries = distinct terms (lists)        aux = postings
//   stored    entries = stored (non-tombstone) docs   aux = docs
//
// Enum values and magic strings are part of the format: never renumber.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/spool_file.h"
#include "freshet/status.h"
#include "index/checksum.h"
#include "index/random_access_source.h"

namespace freshet {

inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr std::string_view kSegmentHeaderMagic{"FRESHET\0", 8};
inline constexpr std::string_view kSegmentFooterMagic{"FRSHEND\0", 8};
inline constexpr uint64_t kSegmentHeaderSize = 16;
inline constexpr uint64_t kSegmentFooterSize = 64;
// type byte + fixed32 length before the payload, fixed64 checksum after it.
inline constexpr uint64_t kBlockHeaderSize = 5;
inline constexpr uint64_t kBlockTrailerSize = 8;
inline constexpr uint64_t kBlockOverhead = kBlockHeaderSize + kBlockTrailerSize;

enum class FileKind : uint32_t { kIds = 1, kTerms = 2, kPostings = 3, kStored = 4 };
enum class BlockType : uint8_t { kRaw = 0, kLz4 = 1 };

inline constexpr std::string_view kIdsFileName = "ids";
inline constexpr std::string_view kTermsFileName = "terms";
inline constexpr std::string_view kPostingsFileName = "postings";
inline constexpr std::string_view kStoredFileName = "stored";

std::string_view FileKindName(FileKind kind);

// Where a block sits in its file: `size` covers header, payload and trailer.
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t end() const { return offset + size; }
  friend bool operator==(const BlockHandle&, const BlockHandle&) = default;
};

struct FileFooter {
  BlockHandle index;
  uint64_t num_blocks = 0;
  uint64_t entries = 0;
  uint64_t aux = 0;
  uint64_t file_checksum = 0;
};

// A file FileBuilder wrote to a spool file instead of returning it.
struct SpooledFile {
  std::shared_ptr<const SpoolFile> file;
  uint64_t xxh64 = 0;  // of the whole file, as Xxh64() of its bytes would be
};

// Assembles one file, in memory or (SpoolTo) written out as it grows. Not
// thread-safe.
class FileBuilder {
 public:
  explicit FileBuilder(FileKind kind);
  ~FileBuilder();
  FileBuilder(FileBuilder&&) noexcept;
  FileBuilder& operator=(FileBuilder&&) noexcept;

  // Writes the file to `spool` as it grows, holding at most about 1 MiB
  // of it in memory; then finish with FinishSpooled. Does not change the
  // bytes. REQUIRES: before the first block.
  void SpoolTo(std::unique_ptr<SpoolWriter> spool);
  bool spooled() const { return spool_ != nullptr; }

  // Appends a data block. With `try_compress`, stores it LZ4-compressed when
  // that saves at least 1/8 of the payload. Fails (kInvalidArgument) only
  // when the payload exceeds the 4 GiB block limit.
  Result<BlockHandle> AddBlock(std::string_view payload, bool try_compress);

  // Offset at which the next block will start.
  uint64_t offset() const { return flushed_ + bytes_.size(); }

  // Appends the index block and footer and returns the file's bytes.
  // REQUIRES: called once, not spooled; the builder is spent afterwards.
  Result<std::string> Finish(std::string_view index_payload, uint64_t entries, uint64_t aux);
  // The same for a spooled builder: the file, complete in its spool.
  Result<SpooledFile> FinishSpooled(std::string_view index_payload, uint64_t entries, uint64_t aux);

 private:
  Result<BlockHandle> AppendBlock(std::string_view payload, bool try_compress);
  // Appends the index block and the footer to bytes_.
  Status AppendTail(std::string_view index_payload, uint64_t entries, uint64_t aux);
  // Spooled: moves bytes_ to the spool once it holds `at_least` bytes.
  Status Drain(size_t at_least);

  std::string bytes_;  // the file, or (spooled) its part not yet written
  uint64_t num_blocks_ = 0;
  // LZ4's output: a raw buffer, so that a block's compression bound is not
  // zero-filled first (a std::string's resize would, 128 KiB per stored
  // block).
  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_ = 0;
  std::unique_ptr<SpoolWriter> spool_;
  uint64_t flushed_ = 0;                  // bytes already in the spool
  std::unique_ptr<Xxh64Stream> checked_;  // spooled: XXH64 of [0, footer), as written
  std::unique_ptr<Xxh64Stream> whole_;    // spooled: XXH64 of the whole file
  Status status_;                         // spooled: the first write error
};

// One file of a segment, opened: footer checked and index block loaded.
struct OpenedFile {
  std::string name;
  FileKind kind = FileKind::kIds;
  std::unique_ptr<RandomAccessSource> source;
  uint64_t size = 0;
  FileFooter footer;
  std::string index_payload;

  // Data blocks live in [kSegmentHeaderSize, data_end()).
  uint64_t data_end() const { return footer.index.offset; }
};

// Reads and checks the header, the footer (its own checksum, magic, version,
// kind) and the index block. Any inconsistency is kDataLoss; errors of the
// source itself keep their codes.
Result<OpenedFile> OpenSegmentFile(FileKind kind, std::unique_ptr<RandomAccessSource> source);

// Reads the data block at `handle`, checks its bounds against the data area,
// its length field and checksum, and returns the (decompressed) payload.
// Never allocates more than the block's size or a bounded multiple of it.
Result<std::string> ReadBlock(const OpenedFile& file, BlockHandle handle);

// Streams the whole file and compares XXH64 with footer.file_checksum.
Status VerifyFileChecksum(const OpenedFile& file);

// kDataLoss "segment file '<name>': <what>".
Status Corrupt(const OpenedFile& file, std::string_view what);

}  // namespace freshet
