// Reads one segment written by SegmentWriter (index format v1, see
// segment_format.h) without loading it into memory: Open reads each file's
// header, footer and sparse index; lookups read the blocks they need,
// through a small LRU cache of decoded blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/status.h"
#include "index/random_access_source.h"
#include "index/segment_format.h"
#include "index/segment_writer.h"

namespace freshet {

struct SegmentReaderOptions {
  // Upper bound on the decoded blocks kept in memory. Default: 8 MiB.
  size_t block_cache_bytes = 8 * 1024 * 1024;
};

// Errors: bytes that contradict the format (bad magic, checksum, length,
// ordering, cross-file counts) are kDataLoss; errors of the sources keep
// their codes; a doc number >= num_docs() is kInvalidArgument.
//
// Thread-safety: after Open, every method may be called concurrently.
class SegmentReader {
 public:
  // Called once per file name: "ids", "terms", "postings", "stored".
  using FileOpener =
      std::function<Result<std::unique_ptr<RandomAccessSource>>(const std::string& file_name)>;

  static Result<std::unique_ptr<SegmentReader>> Open(FileOpener open_file,
                                                     SegmentReaderOptions options = {});
  ~SegmentReader();

  // Documents are numbered 0..num_docs()-1 in ascending bytewise order of
  // id; tombstones are included (num_docs() == stats().docs + tombstones).
  uint32_t num_docs() const { return num_docs_; }
  const SegmentStats& stats() const { return stats_; }

  // Sorted doc numbers containing `term` (see MakeTerm); empty if absent.
  Result<std::vector<uint32_t>> Postings(std::string_view term) const;

  Result<std::string> DocId(uint32_t doc) const;
  // DocId of each of `docs` (ascending), decoding each ids block once.
  Result<std::vector<std::string>> DocIds(const std::vector<uint32_t>& docs) const;
  // The doc number of `id`, or nullopt when the segment does not hold it.
  Result<std::optional<uint32_t>> FindDoc(std::string_view id) const;
  Result<bool> IsTombstone(uint32_t doc) const;
  // The stored JSON of a live doc; kNotFound for a tombstone.
  Result<std::string> Stored(uint32_t doc) const;
  // Stored of each of `docs` (ascending, live), scanning each block once.
  Result<std::vector<std::string>> StoredMany(const std::vector<uint32_t>& docs) const;

  // Reads every byte once, checking every checksum and invariant: order of
  // ids and terms, postings sorted, in range and never naming a tombstone,
  // blocks tiling each file, a stored entry for exactly the live docs, and
  // the counts in every footer. kDataLoss on the first mismatch.
  Status Verify() const;

  // Calls `fn` for every term in ascending bytewise order. `term` is valid
  // only during the call.
  Status ForEachTerm(const std::function<void(std::string_view term, uint32_t doc_freq)>& fn) const;

  // Sequential scans, reading each block once and bypassing the cache (a
  // merge reads whole segments this way). The views passed to `fn` are
  // valid only during the call; an error `fn` returns ends the scan and is
  // returned as is.
  //
  // Every doc in doc order: its id, whether it is a tombstone, and its
  // stored JSON (empty for a tombstone).
  Status ForEachDoc(
      const std::function<Status(uint32_t doc, std::string_view id, bool tombstone, std::string_view stored)>& fn)
      const;
  // Every term in ascending bytewise order with its sorted posting list.
  Status ForEachPostingList(
      const std::function<Status(std::string_view term, const std::vector<uint32_t>& docs)>& fn) const;

 private:
  // Keys packed in one buffer: the sparse indexes' first ids / first terms.
  struct KeyList {
    std::string bytes;
    std::vector<size_t> ends;
    size_t size() const { return ends.size(); }
    std::string_view operator[](size_t i) const {
      const size_t begin = i == 0 ? 0 : ends[i - 1];
      return std::string_view(bytes).substr(begin, ends[i] - begin);
    }
    void push_back(std::string_view k) {
      bytes.append(k);
      ends.push_back(bytes.size());
    }
  };
  struct TermEntry;
  class TermsBlockDecoder;
  class BlockCache;
  enum FileSlot { kIds = 0, kTerms = 1, kPostings = 2, kStored = 3 };

  SegmentReader();
  Status LoadIndexes();
  Result<std::shared_ptr<const std::string>> CachedBlock(FileSlot slot, BlockHandle handle) const;
  Status DecodeIdsBlock(std::string_view payload, size_t block, std::vector<std::string>* ids,
                        std::string_view* tombstone_bits) const;
  Result<std::vector<uint32_t>> DecodePostingList(std::string_view postings_payload,
                                                  const TermEntry& e) const;
  Status ScanTermsBlock(size_t block, std::string_view payload,
                        const std::function<Status(const TermEntry&, bool* stop)>& fn) const;

  OpenedFile files_[4];
  uint32_t num_docs_ = 0;
  SegmentStats stats_;
  uint32_t ids_per_block_ = 1;
  KeyList ids_first_;
  std::vector<BlockHandle> ids_blocks_;
  KeyList terms_first_;
  std::vector<BlockHandle> terms_blocks_;
  std::vector<uint32_t> stored_first_;
  std::vector<BlockHandle> stored_blocks_;
  std::unique_ptr<BlockCache> cache_;
};

}  // namespace freshet
