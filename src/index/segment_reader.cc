#include "index/segment_reader.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>

#include "index/coding.h"

namespace freshet {

struct SegmentReader::TermEntry {
  std::string_view term;
  uint32_t doc_freq = 0;
  BlockHandle postings;
  uint64_t list_offset = 0;
  uint64_t list_len = 0;
};

// LRU of decoded blocks keyed by (file, offset). Blocks larger than a
// quarter of the capacity bypass it so one huge posting list cannot flush
// everything else.
class SegmentReader::BlockCache {
 public:
  explicit BlockCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const std::string> Lookup(uint64_t key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  void Insert(uint64_t key, std::shared_ptr<const std::string> value) {
    const size_t charge = value->size() + 64;
    if (charge > capacity_ / 4) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.count(key) != 0) return;
    lru_.emplace_front(key, std::move(value));
    map_.emplace(key, lru_.begin());
    used_ += charge;
    while (used_ > capacity_ && !lru_.empty()) {
      used_ -= lru_.back().second->size() + 64;
      map_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<const std::string>>;
  const size_t capacity_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first; guarded by mu_
  std::unordered_map<uint64_t, std::list<Entry>::iterator> map_;  // guarded by mu_
  size_t used_ = 0;  // guarded by mu_
};

namespace {

constexpr uint32_t kMaxIdsPerBlock = 1 << 16;
// A posting is a varint32: 1..5 bytes.
constexpr uint64_t kMaxBytesPerPosting = 5;

// Checks that `blocks` cover the data area of `file` exactly, in order.
Status CheckTiling(const OpenedFile& file, const std::vector<BlockHandle>& blocks) {
  uint64_t at = kSegmentHeaderSize;
  for (const BlockHandle& h : blocks) {
    if (h.offset != at || h.size < kBlockOverhead || h.size > file.data_end() - at) {
      return Corrupt(file, "sparse index does not tile the data blocks at offset " + std::to_string(at));
    }
    at = h.end();
  }
  if (at != file.data_end()) return Corrupt(file, "data blocks end before the index block");
  if (blocks.size() != file.footer.num_blocks) return Corrupt(file, "block count mismatch");
  return Status::Ok();
}

bool GetHandle(std::string_view* in, BlockHandle* h) {
  return GetVarint64(in, &h->offset) && GetVarint64(in, &h->size);
}

}  // namespace

SegmentReader::SegmentReader() = default;
SegmentReader::~SegmentReader() = default;

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(FileOpener open_file,
                                                           SegmentReaderOptions options) {
  if (!open_file) return Status::InvalidArgument("SegmentReader::Open: no file opener");
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  static constexpr FileKind kKinds[4] = {FileKind::kIds, FileKind::kTerms, FileKind::kPostings,
                                         FileKind::kStored};
  for (int i = 0; i < 4; ++i) {
    const std::string name(FileKindName(kKinds[i]));
    FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessSource> src, open_file(name));
    if (src == nullptr) return Status::Internal("file opener returned no source for '" + name + "'");
    FRESHET_ASSIGN_OR_RETURN(r->files_[i], OpenSegmentFile(kKinds[i], std::move(src)));
  }
  r->cache_ = std::make_unique<BlockCache>(options.block_cache_bytes);
  FRESHET_RETURN_IF_ERROR(r->LoadIndexes());
  return r;
}

Status SegmentReader::LoadIndexes() {
  const OpenedFile& ids = files_[kIds];
  const OpenedFile& terms = files_[kTerms];
  const OpenedFile& postings = files_[kPostings];
  const OpenedFile& stored = files_[kStored];

  // Counts must agree across files, and be possible for the file sizes
  // (every id costs at least two bytes), so nothing below allocates by a
  // count the bytes cannot back.
  const uint64_t n = ids.footer.entries;
  const uint64_t tombstones = ids.footer.aux;
  if (n > UINT32_MAX || n > (ids.data_end() - kSegmentHeaderSize) / 2) {
    return Corrupt(ids, "doc count " + std::to_string(n) + " impossible for the file size");
  }
  if (tombstones > n) return Corrupt(ids, "more tombstones than docs");
  if (terms.footer.entries != postings.footer.entries || terms.footer.aux != postings.footer.aux) {
    return Status::DataLoss("segment files 'terms' and 'postings' disagree on term/posting counts");
  }
  if (stored.footer.aux != n || stored.footer.entries != n - tombstones) {
    return Status::DataLoss("segment files 'ids' and 'stored' disagree on doc counts");
  }
  if (!postings.index_payload.empty()) return Corrupt(postings, "unexpected index payload");
  num_docs_ = static_cast<uint32_t>(n);
  stats_ = {n - tombstones, tombstones, terms.footer.entries, terms.footer.aux};

  // ids: varint ids_per_block, then (first id, handle) per block.
  std::string_view in = ids.index_payload;
  if (!GetVarint32(&in, &ids_per_block_) || ids_per_block_ == 0 || ids_per_block_ > kMaxIdsPerBlock) {
    return Corrupt(ids, "bad ids_per_block");
  }
  const uint64_t want_blocks = (n + ids_per_block_ - 1) / ids_per_block_;
  if (ids.footer.num_blocks != want_blocks) return Corrupt(ids, "block count does not match doc count");
  while (!in.empty()) {
    std::string_view first;
    BlockHandle h;
    if (!GetLengthPrefixed(&in, &first) || !GetHandle(&in, &h)) return Corrupt(ids, "bad index entry");
    if (ids_first_.size() > 0 && !(ids_first_[ids_first_.size() - 1] < first)) {
      return Corrupt(ids, "index ids out of order");
    }
    ids_first_.push_back(first);
    ids_blocks_.push_back(h);
  }
  FRESHET_RETURN_IF_ERROR(CheckTiling(ids, ids_blocks_));

  // terms: (first term, handle) per block.
  in = terms.index_payload;
  while (!in.empty()) {
    std::string_view first;
    BlockHandle h;
    if (!GetLengthPrefixed(&in, &first) || !GetHandle(&in, &h)) return Corrupt(terms, "bad index entry");
    if (terms_first_.size() > 0 && !(terms_first_[terms_first_.size() - 1] < first)) {
      return Corrupt(terms, "index terms out of order");
    }
    terms_first_.push_back(first);
    terms_blocks_.push_back(h);
  }
  FRESHET_RETURN_IF_ERROR(CheckTiling(terms, terms_blocks_));
  if (terms_blocks_.size() > terms.footer.entries ||
      (terms.footer.entries > 0) != !terms_blocks_.empty()) {
    return Corrupt(terms, "block count does not match term count");
  }
  if (terms.footer.aux < terms.footer.entries ||
      terms.footer.aux > static_cast<uint64_t>(num_docs_) * terms.footer.entries) {
    return Corrupt(terms, "posting count does not match term count");
  }

  // stored: (first doc, handle) per block.
  in = stored.index_payload;
  while (!in.empty()) {
    uint32_t first;
    BlockHandle h;
    if (!GetVarint32(&in, &first) || !GetHandle(&in, &h)) return Corrupt(stored, "bad index entry");
    if (first >= num_docs_ || (!stored_first_.empty() && first <= stored_first_.back())) {
      return Corrupt(stored, "index docs out of order or range");
    }
    stored_first_.push_back(first);
    stored_blocks_.push_back(h);
  }
  FRESHET_RETURN_IF_ERROR(CheckTiling(stored, stored_blocks_));
  if (stored_blocks_.size() > stored.footer.entries ||
      (stored.footer.entries > 0) != !stored_blocks_.empty()) {
    return Corrupt(stored, "block count does not match stored doc count");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const std::string>> SegmentReader::CachedBlock(FileSlot slot,
                                                                      BlockHandle handle) const {
  const uint64_t key = (handle.offset << 2) | static_cast<uint64_t>(slot);
  if (auto hit = cache_->Lookup(key)) return hit;
  FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[slot], handle));
  auto block = std::make_shared<const std::string>(std::move(payload));
  cache_->Insert(key, block);
  return block;
}

// See SegmentWriter::WriteIds for the layout.
Status SegmentReader::DecodeIdsBlock(std::string_view in, size_t block, std::vector<std::string>* ids,
                                     std::string_view* tombstone_bits) const {
  const OpenedFile& f = files_[kIds];
  const uint64_t start = static_cast<uint64_t>(block) * ids_per_block_;
  const uint64_t want = std::min<uint64_t>(ids_per_block_, num_docs_ - start);
  uint64_t count;
  if (!GetVarint64(&in, &count) || count != want) return Corrupt(f, "ids block has wrong entry count");
  ids->clear();
  ids->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t shared, unshared;
    if (!GetVarint64(&in, &shared) || !GetVarint64(&in, &unshared) ||
        (i == 0 ? shared != 0 : shared > ids->back().size()) || unshared > in.size()) {
      return Corrupt(f, "bad ids block entry");
    }
    std::string id = i == 0 ? std::string() : ids->back().substr(0, shared);
    id.append(in.substr(0, unshared));
    in.remove_prefix(unshared);
    if (i == 0 ? id != ids_first_[block] : !(ids->back() < id)) {
      return Corrupt(f, "ids out of order in block " + std::to_string(block));
    }
    ids->push_back(std::move(id));
  }
  const size_t bits = (count + 7) / 8;
  if (in.size() != bits) return Corrupt(f, "bad tombstone bitmap size");
  if (count % 8 != 0 && (static_cast<unsigned char>(in.back()) >> (count % 8)) != 0) {
    return Corrupt(f, "tombstone bitmap padding set");
  }
  *tombstone_bits = in;
  return Status::Ok();
}

Result<std::string> SegmentReader::DocId(uint32_t doc) const {
  if (doc >= num_docs_) return Status::InvalidArgument("doc " + std::to_string(doc) + " out of range");
  const size_t block = doc / ids_per_block_;
  FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kIds, ids_blocks_[block]));
  std::vector<std::string> ids;
  std::string_view bits;
  FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(*payload, block, &ids, &bits));
  return std::move(ids[doc % ids_per_block_]);
}

Result<std::vector<std::string>> SegmentReader::DocIds(const std::vector<uint32_t>& docs) const {
  std::vector<std::string> out;
  out.reserve(docs.size());
  std::vector<std::string> ids;
  size_t decoded = SIZE_MAX;  // the block `ids` holds
  for (uint32_t doc : docs) {
    if (doc >= num_docs_) return Status::InvalidArgument("doc " + std::to_string(doc) + " out of range");
    const size_t block = doc / ids_per_block_;
    if (block != decoded) {
      FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kIds, ids_blocks_[block]));
      std::string_view bits;
      FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(*payload, block, &ids, &bits));
      decoded = block;
    }
    out.push_back(ids[doc % ids_per_block_]);
  }
  return out;
}

Result<bool> SegmentReader::IsTombstone(uint32_t doc) const {
  if (doc >= num_docs_) return Status::InvalidArgument("doc " + std::to_string(doc) + " out of range");
  if (stats_.tombstones == 0) return false;
  const size_t block = doc / ids_per_block_;
  FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kIds, ids_blocks_[block]));
  std::vector<std::string> ids;
  std::string_view bits;
  FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(*payload, block, &ids, &bits));
  const uint32_t i = doc % ids_per_block_;
  return ((static_cast<unsigned char>(bits[i / 8]) >> (i % 8)) & 1) != 0;
}

Result<std::optional<uint32_t>> SegmentReader::FindDoc(std::string_view id) const {
  // The last block whose first id is <= id.
  size_t lo = 0, hi = ids_first_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (id < ids_first_[mid]) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (lo == 0) return std::optional<uint32_t>();
  const size_t block = lo - 1;
  FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kIds, ids_blocks_[block]));
  std::vector<std::string> ids;
  std::string_view bits;
  FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(*payload, block, &ids, &bits));
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return std::optional<uint32_t>();
  return std::optional<uint32_t>(static_cast<uint32_t>(block * ids_per_block_ + (it - ids.begin())));
}

// See SegmentWriter::WriteTermsAndPostings for the layout. Calls `fn` for
// each entry until it sets *stop or fails; its error is returned as is.
Status SegmentReader::ScanTermsBlock(size_t block, std::string_view in,
                                     const std::function<Status(const TermEntry&, bool*)>& fn) const {
  const OpenedFile& f = files_[kTerms];
  std::string term;
  uint64_t prev_offset = 0, prev_size = 0, next_list = 0;
  bool first = true;
  if (in.empty()) return Corrupt(f, "empty terms block");
  while (!in.empty()) {
    uint64_t shared, unshared;
    if (!GetVarint64(&in, &shared) || !GetVarint64(&in, &unshared) ||
        (first ? shared != 0 : shared > term.size()) || unshared > in.size()) {
      return Corrupt(f, "bad terms block entry");
    }
    const std::string_view suffix = in.substr(0, unshared);
    in.remove_prefix(unshared);
    // Both terms share `shared` bytes, so the new one is greater iff its
    // suffix is greater than the old term's remainder.
    if (!first && !(std::string_view(term).substr(shared) < suffix)) {
      return Corrupt(f, "terms out of order in block " + std::to_string(block));
    }
    term.resize(shared);
    term.append(suffix);
    if (first && term != terms_first_[block]) return Corrupt(f, "block's first term differs from index");

    TermEntry e;
    uint64_t delta;
    if (!GetVarint32(&in, &e.doc_freq) || e.doc_freq == 0 || e.doc_freq > num_docs_ ||
        !GetVarint64(&in, &delta) || (first && delta == 0)) {
      return Corrupt(f, "bad terms block entry");
    }
    if (delta > 0) {
      if (delta > UINT64_MAX - prev_offset || !GetVarint64(&in, &e.postings.size) ||
          !GetVarint64(&in, &e.list_offset)) {
        return Corrupt(f, "bad postings location");
      }
      e.postings.offset = prev_offset + delta;
    } else {
      e.postings = {prev_offset, prev_size};
      e.list_offset = next_list;
    }
    if (!GetVarint64(&in, &e.list_len) || e.list_len < e.doc_freq ||
        e.list_len > kMaxBytesPerPosting * e.doc_freq || e.list_offset > e.postings.size ||
        e.list_len > e.postings.size - e.list_offset) {
      return Corrupt(f, "bad postings location");
    }
    prev_offset = e.postings.offset;
    prev_size = e.postings.size;
    next_list = e.list_offset + e.list_len;
    first = false;
    e.term = term;
    bool stop = false;
    FRESHET_RETURN_IF_ERROR(fn(e, &stop));
    if (stop) break;
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> SegmentReader::DecodePostingList(std::string_view payload,
                                                               const TermEntry& e) const {
  const OpenedFile& f = files_[kPostings];
  if (e.list_offset > payload.size() || e.list_len > payload.size() - e.list_offset) {
    return Corrupt(f, "posting list outside its block");
  }
  std::string_view in = payload.substr(e.list_offset, e.list_len);
  std::vector<uint32_t> docs;
  docs.reserve(e.doc_freq);  // doc_freq <= list_len, so bounded by the bytes
  uint64_t prev = 0;
  for (uint32_t i = 0; i < e.doc_freq; ++i) {
    uint32_t v;
    if (!GetVarint32(&in, &v)) return Corrupt(f, "truncated posting list");
    const uint64_t doc = i == 0 ? v : prev + v;
    if ((i > 0 && v == 0) || doc >= num_docs_) return Corrupt(f, "posting list unsorted or out of range");
    docs.push_back(static_cast<uint32_t>(doc));
    prev = doc;
  }
  if (!in.empty()) return Corrupt(f, "posting list longer than its doc frequency");
  return docs;
}

Result<std::vector<uint32_t>> SegmentReader::Postings(std::string_view term) const {
  size_t lo = 0, hi = terms_first_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (term < terms_first_[mid]) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (lo == 0) return std::vector<uint32_t>();
  const size_t block = lo - 1;
  FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kTerms, terms_blocks_[block]));
  std::optional<TermEntry> found;
  FRESHET_RETURN_IF_ERROR(ScanTermsBlock(block, *payload, [&](const TermEntry& e, bool* stop) {
    if (e.term >= term) {
      if (e.term == term) {
        found = e;
        found->term = term;  // e.term dies with the scan
      }
      *stop = true;
    }
    return Status::Ok();
  }));
  if (!found) return std::vector<uint32_t>();
  FRESHET_ASSIGN_OR_RETURN(auto postings, CachedBlock(kPostings, found->postings));
  return DecodePostingList(*postings, *found);
}

Result<std::string> SegmentReader::Stored(uint32_t doc) const {
  if (doc >= num_docs_) return Status::InvalidArgument("doc " + std::to_string(doc) + " out of range");
  const OpenedFile& f = files_[kStored];
  auto it = std::upper_bound(stored_first_.begin(), stored_first_.end(), doc);
  if (it != stored_first_.begin()) {
    const size_t block = static_cast<size_t>(it - stored_first_.begin()) - 1;
    FRESHET_ASSIGN_OR_RETURN(auto payload, CachedBlock(kStored, stored_blocks_[block]));
    std::string_view in = *payload;
    uint32_t at, count;
    if (!GetVarint32(&in, &at) || at != stored_first_[block] || !GetVarint32(&in, &count) || count == 0) {
      return Corrupt(f, "bad stored block header");
    }
    for (uint32_t i = 0; i < count && at <= doc; ++i) {
      uint32_t gap = 0;
      std::string_view json;
      if ((i > 0 && (!GetVarint32(&in, &gap) || gap == 0 || gap >= num_docs_ - at)) ||
          !GetLengthPrefixed(&in, &json)) {
        return Corrupt(f, "bad stored block entry");
      }
      at += gap;
      if (at == doc) return std::string(json);
    }
  }
  FRESHET_ASSIGN_OR_RETURN(bool tombstone, IsTombstone(doc));
  if (tombstone) return Status::NotFound("doc " + std::to_string(doc) + " is a tombstone");
  return Corrupt(f, "no stored entry for live doc " + std::to_string(doc));
}

Result<std::vector<std::string>> SegmentReader::StoredMany(const std::vector<uint32_t>& docs) const {
  const OpenedFile& f = files_[kStored];
  std::vector<std::string> out;
  out.reserve(docs.size());
  // The cursor: the block held, its entries after the one for doc `at`.
  size_t block = SIZE_MAX;
  std::shared_ptr<const std::string> payload;
  std::string_view in;
  uint32_t at = 0, left = 0;
  bool fresh = false;  // the cursor is before the block's first entry
  for (uint32_t doc : docs) {
    if (doc >= num_docs_) return Status::InvalidArgument("doc " + std::to_string(doc) + " out of range");
    auto it = std::upper_bound(stored_first_.begin(), stored_first_.end(), doc);
    if (it == stored_first_.begin()) return Stored(doc).status();  // no entry: Stored names why
    const size_t b = static_cast<size_t>(it - stored_first_.begin()) - 1;
    if (b != block || doc < at || (doc == at && !fresh)) {
      if (b == block && doc < at) return Status::InvalidArgument("StoredMany: docs not ascending");
      FRESHET_ASSIGN_OR_RETURN(payload, CachedBlock(kStored, stored_blocks_[b]));
      block = b;
      in = *payload;
      if (!GetVarint32(&in, &at) || at != stored_first_[b] || !GetVarint32(&in, &left) || left == 0) {
        return Corrupt(f, "bad stored block header");
      }
      fresh = true;
    }
    bool found = false;
    while (left > 0) {
      uint32_t gap = 0;
      std::string_view json;
      if ((!fresh && (!GetVarint32(&in, &gap) || gap == 0 || gap >= num_docs_ - at)) ||
          !GetLengthPrefixed(&in, &json)) {
        return Corrupt(f, "bad stored block entry");
      }
      at += gap;
      fresh = false;
      --left;
      if (at == doc) {
        out.emplace_back(json);
        found = true;
        break;
      }
      if (at > doc) break;
    }
    if (!found) {
      // A tombstone (kNotFound) or damage, named by Stored; never ok here.
      Status st = Stored(doc).status();
      return st.ok() ? Corrupt(f, "stored entry of doc " + std::to_string(doc) + " out of order") : st;
    }
  }
  return out;
}

Status SegmentReader::ForEachTerm(
    const std::function<void(std::string_view term, uint32_t doc_freq)>& fn) const {
  for (size_t b = 0; b < terms_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[kTerms], terms_blocks_[b]));
    FRESHET_RETURN_IF_ERROR(ScanTermsBlock(b, payload, [&](const TermEntry& e, bool*) {
      fn(e.term, e.doc_freq);
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

Status SegmentReader::ForEachDoc(
    const std::function<Status(uint32_t, std::string_view, bool, std::string_view)>& fn) const {
  const OpenedFile& sf = files_[kStored];
  // The stored cursor: entries of block `sb`, the next one for doc `at`.
  size_t sb = 0;
  std::string stored_payload;
  std::string_view in;
  uint32_t at = 0, left = 0;
  bool first_entry = true;
  auto next_stored = [&](uint32_t doc, std::string_view* json) -> Status {
    if (left == 0) {
      if (sb >= stored_blocks_.size()) return Corrupt(sf, "no stored entry for live doc " + std::to_string(doc));
      FRESHET_ASSIGN_OR_RETURN(stored_payload, ReadBlock(sf, stored_blocks_[sb]));
      in = stored_payload;
      if (!GetVarint32(&in, &at) || at != stored_first_[sb] || !GetVarint32(&in, &left) || left == 0) {
        return Corrupt(sf, "bad stored block header");
      }
      ++sb;
      first_entry = true;
    }
    uint32_t gap = 0;
    if ((!first_entry && (!GetVarint32(&in, &gap) || gap == 0 || gap >= num_docs_ - at)) ||
        !GetLengthPrefixed(&in, json)) {
      return Corrupt(sf, "bad stored block entry");
    }
    at += gap;
    first_entry = false;
    --left;
    if (left == 0 && !in.empty()) return Corrupt(sf, "trailing bytes in stored block");
    if (at != doc) return Corrupt(sf, "stored entry for doc " + std::to_string(at) + " where live doc " +
                                          std::to_string(doc) + " comes next");
    return Status::Ok();
  };
  std::vector<std::string> ids;
  for (size_t b = 0; b < ids_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[kIds], ids_blocks_[b]));
    std::string_view bits;
    FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(payload, b, &ids, &bits));
    for (size_t i = 0; i < ids.size(); ++i) {
      const uint32_t doc = static_cast<uint32_t>(b * ids_per_block_ + i);
      const bool tombstone = ((static_cast<unsigned char>(bits[i / 8]) >> (i % 8)) & 1) != 0;
      std::string_view json;
      if (!tombstone) FRESHET_RETURN_IF_ERROR(next_stored(doc, &json));
      FRESHET_RETURN_IF_ERROR(fn(doc, ids[i], tombstone, json));
    }
  }
  if (left != 0 || sb != stored_blocks_.size()) return Corrupt(sf, "stored entries past the last live doc");
  return Status::Ok();
}

Status SegmentReader::ForEachPostingList(
    const std::function<Status(std::string_view, const std::vector<uint32_t>&)>& fn) const {
  BlockHandle current;
  std::string block;
  for (size_t b = 0; b < terms_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[kTerms], terms_blocks_[b]));
    FRESHET_RETURN_IF_ERROR(ScanTermsBlock(b, payload, [&](const TermEntry& e, bool*) -> Status {
      if (!(e.postings == current)) {
        FRESHET_ASSIGN_OR_RETURN(block, ReadBlock(files_[kPostings], e.postings));
        current = e.postings;
      }
      FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, DecodePostingList(block, e));
      return fn(e.term, docs);
    }));
  }
  return Status::Ok();
}

Status SegmentReader::Verify() const {
  for (const OpenedFile& f : files_) FRESHET_RETURN_IF_ERROR(VerifyFileChecksum(f));

  // ids: globally ascending; collect tombstones.
  std::vector<bool> tombstone(num_docs_);
  uint64_t tombstones = 0;
  std::string last_id;
  std::vector<std::string> ids;
  for (size_t b = 0; b < ids_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[kIds], ids_blocks_[b]));
    std::string_view bits;
    FRESHET_RETURN_IF_ERROR(DecodeIdsBlock(payload, b, &ids, &bits));
    if (b > 0 && !(last_id < ids.front())) return Corrupt(files_[kIds], "ids out of order across blocks");
    for (size_t i = 0; i < ids.size(); ++i) {
      if ((static_cast<unsigned char>(bits[i / 8]) >> (i % 8)) & 1) {
        tombstone[b * ids_per_block_ + i] = true;
        ++tombstones;
      }
    }
    last_id = std::move(ids.back());
  }
  if (tombstones != stats_.tombstones) return Corrupt(files_[kIds], "tombstone count mismatch");

  // terms + postings: terms globally ascending; posting lists tile their
  // blocks and the blocks tile the postings file, in term order.
  const OpenedFile& pf = files_[kPostings];
  uint64_t terms = 0, postings = 0, postings_blocks = 0;
  uint64_t next_block = kSegmentHeaderSize, next_list = 0;
  BlockHandle current;
  std::string block;
  std::string last_term;
  for (size_t b = 0; b < terms_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(files_[kTerms], terms_blocks_[b]));
    FRESHET_RETURN_IF_ERROR(ScanTermsBlock(b, payload, [&](const TermEntry& e, bool*) -> Status {
      if (terms > 0 && !(last_term < e.term)) return Corrupt(files_[kTerms], "terms out of order across blocks");
      last_term.assign(e.term);
      if (!(e.postings == current)) {
        if (current.size != 0 && next_list != block.size()) return Corrupt(pf, "unused bytes in block");
        if (e.postings.offset != next_block) return Corrupt(pf, "posting blocks do not tile the file");
        FRESHET_ASSIGN_OR_RETURN(block, ReadBlock(pf, e.postings));
        current = e.postings;
        next_block = e.postings.end();
        next_list = 0;
        ++postings_blocks;
      }
      if (e.list_offset != next_list) return Corrupt(pf, "posting lists do not tile their block");
      FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, DecodePostingList(block, e));
      for (uint32_t d : docs) {
        if (tombstone[d]) return Corrupt(pf, "posting names tombstone doc " + std::to_string(d));
      }
      next_list += e.list_len;
      postings += e.doc_freq;
      ++terms;
      return Status::Ok();
    }));
  }
  if (current.size != 0 && next_list != block.size()) return Corrupt(pf, "unused bytes in block");
  if (next_block != pf.data_end()) return Corrupt(pf, "unreferenced bytes before the index block");
  if (postings_blocks != pf.footer.num_blocks) return Corrupt(pf, "block count mismatch");
  if (terms != stats_.terms || postings != stats_.postings) {
    return Corrupt(files_[kTerms], "term or posting count mismatch");
  }

  // stored: one entry for each live doc, ascending.
  const OpenedFile& sf = files_[kStored];
  uint64_t stored = 0;
  int64_t last_doc = -1;
  for (size_t b = 0; b < stored_blocks_.size(); ++b) {
    FRESHET_ASSIGN_OR_RETURN(std::string payload, ReadBlock(sf, stored_blocks_[b]));
    std::string_view in = payload;
    uint32_t at, count;
    if (!GetVarint32(&in, &at) || at != stored_first_[b] || !GetVarint32(&in, &count) || count == 0) {
      return Corrupt(sf, "bad stored block header");
    }
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t gap = 0;
      std::string_view json;
      if ((i > 0 && (!GetVarint32(&in, &gap) || gap == 0 || gap >= num_docs_ - at)) ||
          !GetLengthPrefixed(&in, &json)) {
        return Corrupt(sf, "bad stored block entry");
      }
      at += gap;
      if (static_cast<int64_t>(at) <= last_doc || tombstone[at]) {
        return Corrupt(sf, "stored entry for doc " + std::to_string(at) + " out of order or a tombstone");
      }
      last_doc = at;
      ++stored;
    }
    if (!in.empty()) return Corrupt(sf, "trailing bytes in stored block");
  }
  if (stored != stats_.docs) return Corrupt(sf, "stored entry count mismatch");
  return Status::Ok();
}

}  // namespace freshet
