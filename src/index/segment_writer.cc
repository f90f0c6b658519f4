#include "index/segment_writer.h"

#include <algorithm>
#include <cstring>
#include <cassert>
#include <numeric>
#include <thread>

// XXH3 inlined: a DocBatch hashes every term of every document (~15 bytes
// each), where a call into libxxhash costs about as much as the hashing.
// (Also in a unity build: xxhash.h renames the inlined functions.)
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/release_memory.h"
#include "index/checksum.h"
#include "index/coding.h"
#include "index/segment_format.h"

namespace freshet {

namespace {

// Copies byte strings into large chunks: one allocation per chunk instead of
// one per string, and views that stay valid until the arena is reset or
// destroyed.
class Arena {
 public:
  explicit Arena(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}

  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > chunk_bytes_ / 4) {
      chunks_.push_back(std::make_unique<char[]>(s.size()));
      std::copy(s.begin(), s.end(), chunks_.back().get());
      big_ = true;
      return {chunks_.back().get(), s.size()};
    }
    if (current_ == nullptr || chunk_bytes_ - used_ < s.size()) {
      chunks_.push_back(std::make_unique<char[]>(chunk_bytes_));
      current_ = chunks_.back().get();
      used_ = 0;
    }
    char* p = current_ + used_;
    std::copy(s.begin(), s.end(), p);
    used_ += s.size();
    return {p, s.size()};
  }

  // Forgets every string; keeps the first chunk when it is a regular one.
  void Reset() {
    if (chunks_.empty()) return;
    if (chunks_.size() > 1 || big_) chunks_.resize(big_ ? 0 : 1);
    current_ = chunks_.empty() ? nullptr : chunks_.front().get();
    used_ = 0;
    big_ = false;
  }

 private:
  const size_t chunk_bytes_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* current_ = nullptr;
  size_t used_ = 0;
  bool big_ = false;  // some chunk holds one oversized string
};

}  // namespace

class SegmentWriter::ByteArena : public Arena {
 public:
  using Arena::Arena;
};

// Interns terms: one copy of each distinct term's bytes in an arena, and an
// open-addressing table of slots holding a term's hash tag and id and where
// its bytes are (and how many), so that a lookup reads the slot and then
// the bytes: two dependent loads, where reading the id's entry first made
// three (the largest stalls of a full build's term tables). Chained hash
// maps cost a node and a cache miss per term; at ~40 terms per doc over
// 500k docs, interning dominates indexing. Callers pass XXH3_64bits of the
// term, so a term hashed once (in its DocBatch) is not hashed again by the
// writer.
class SegmentTermTable {
 public:
  // Clear keeps up to `max_kept_slots` slots (else shrinks back to
  // initial_slots): a table refilled with about as many terms each time (a
  // DocBatch's) then does not grow from the start again every time.
  SegmentTermTable(size_t initial_slots, size_t chunk_bytes, size_t max_kept_slots = 0)
      : initial_slots_(initial_slots), max_kept_slots_(std::max(max_kept_slots, initial_slots * 4)),
        slots_(initial_slots), bytes_(chunk_bytes) {}

  // Returns the term's dense id (0, 1, 2, ... in first-seen order) and
  // whether it was new. REQUIRES: hash == XXH3_64bits(term).
  std::pair<uint32_t, bool> Intern(std::string_view term, uint64_t hash) {
    const uint64_t tag = hash >> 32;
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
      const Slot slot = slots_[i];
      if (slot.key == 0) break;
      if ((slot.key >> 32) == tag && Holds(slot, term)) {
        return {static_cast<uint32_t>((slot.key & 0xFFFFFFFFu) - 1), false};
      }
    }
    const auto id = static_cast<uint32_t>(by_id_.size());
    by_id_.push_back(bytes_.Copy(term));
    hashes_.push_back(hash);
    if (by_id_.size() * 2 > slots_.size()) {
      Grow();
    } else {
      Place(hash, id);
    }
    return {id, true};
  }

  // A hint that Intern(term, hash) is coming: starts loading its slot.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[static_cast<size_t>(hash) & (slots_.size() - 1)]); }
  // A later hint, once the slot has arrived: the bytes of the term in it,
  // which Intern compares. Only the first slot the hash maps to: the usual
  // home of a term found.
  void PrefetchBytes(uint64_t hash) const {
    const Slot& slot = slots_[static_cast<size_t>(hash) & (slots_.size() - 1)];
    if ((slot.key >> 32) == hash >> 32 && slot.key != 0) __builtin_prefetch(BytesOf(slot));
  }

  size_t size() const { return by_id_.size(); }
  std::string_view term(uint32_t id) const { return by_id_[id]; }
  uint64_t hash(uint32_t id) const { return hashes_[id]; }

  // Forgets every term, keeping (most of) the memory.
  void Clear() {
    if (slots_.size() > max_kept_slots_) {
      slots_.assign(initial_slots_, Slot{});
      slots_.shrink_to_fit();
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    by_id_.clear();
    hashes_.clear();
    bytes_.Reset();
  }

 private:
  // key: 0 = empty, else (hash >> 32) << 32 | (id + 1). where: the term's
  // bytes' address in the low 48 bits and its length in the high 16, or
  // kLongTerm there for a term that does not fit (longer, or an address
  // above 48 bits): Intern then compares with by_id_ instead.
  struct Slot {
    uint64_t key = 0;
    uint64_t where = 0;
  };
  static constexpr uint64_t kAddressMask = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t kLongTerm = 0xFFFF;

  static const char* BytesOf(const Slot& slot) {
    return reinterpret_cast<const char*>(static_cast<uintptr_t>(slot.where & kAddressMask));
  }
  bool Holds(const Slot& slot, std::string_view term) const {
    const uint64_t length = slot.where >> 48;
    if (length == kLongTerm) return by_id_[(slot.key & 0xFFFFFFFFu) - 1] == term;
    return length == term.size() && (length == 0 || std::memcmp(BytesOf(slot), term.data(), length) == 0);
  }
  void Place(uint64_t h, uint32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(h) & mask;
    while (slots_[i].key != 0) i = (i + 1) & mask;
    const std::string_view t = by_id_[id];
    const auto address = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.data()));
    const bool fits = t.size() < kLongTerm && (address & ~kAddressMask) == 0;
    slots_[i].key = ((h >> 32) << 32) | (static_cast<uint64_t>(id) + 1);
    slots_[i].where = fits ? (static_cast<uint64_t>(t.size()) << 48) | address : kLongTerm << 48;
  }

  void Grow() {
    slots_.assign(slots_.size() * 2, Slot{});
    for (size_t id = 0; id < by_id_.size(); ++id) Place(hashes_[id], static_cast<uint32_t>(id));
  }

  const size_t initial_slots_;  // a power of 2
  const size_t max_kept_slots_;
  std::vector<Slot> slots_;
  std::vector<std::string_view> by_id_;  // views into bytes_
  std::vector<uint64_t> hashes_;         // by id
  Arena bytes_;
};

// A full's batch of 4,096 documents holds about 20,000 distinct terms (the
// side-by-side corpus): 64 Ki slots, kept from one batch to the next.
DocBatch::DocBatch() : terms_(std::make_unique<SegmentTermTable>(1 << 12, 64 * 1024, 1 << 17)) {}
DocBatch::~DocBatch() = default;
DocBatch::DocBatch(DocBatch&&) noexcept = default;
DocBatch& DocBatch::operator=(DocBatch&&) noexcept = default;

void DocBatch::Add(const IndexDoc& doc) {
  sealed_ = false;
  Doc d;
  d.id_begin = bytes_.size();
  d.id_size = static_cast<uint32_t>(doc.id.size());
  bytes_.append(doc.id);
  d.tombstone = doc.tombstone;
  if (!d.tombstone) {
    d.stored_size = static_cast<uint32_t>(doc.stored.size());
    bytes_.append(doc.stored);
    d.refs_begin = static_cast<uint32_t>(refs_.size());
    const auto stamp = static_cast<uint32_t>(docs_.size() + 1);
    // The doc's terms hashed first, each one's slot asked for as it is:
    // the probes below then find their slots arriving (the table is about
    // 1 MB, beyond the nearer caches).
    const size_t n = doc.terms.size();
    term_hashes_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const std::string_view t = doc.terms[i];
      term_hashes_[i] = XXH3_64bits(t.data(), t.size());
      terms_->Prefetch(term_hashes_[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      const std::string_view t = doc.terms[i];
      const auto [id, added] = terms_->Intern(t, term_hashes_[i]);
      if (added) {
        doc_freq_.push_back(0);
        last_doc_.push_back(0);
      }
      if (last_doc_[id] == stamp) continue;  // repeated within the doc
      last_doc_[id] = stamp;
      ++doc_freq_[id];
      refs_.push_back(id);
    }
    d.refs_count = static_cast<uint32_t>(refs_.size() - d.refs_begin);
  }
  docs_.push_back(d);
}

void DocBatch::Clear() {
  bytes_.clear();
  docs_.clear();
  terms_->Clear();
  doc_freq_.clear();
  last_doc_.clear();
  refs_.clear();
  sealed_ = false;
}

std::string_view DocBatch::id(size_t i) const {
  return std::string_view(bytes_).substr(docs_[i].id_begin, docs_[i].id_size);
}

void DocBatch::Seal() {
  const size_t n = terms_->size();
  // Each term's docs, in doc order: a counting sort of the refs by term.
  post_end_.resize(n);
  size_t at = 0;
  for (size_t t = 0; t < n; ++t) {
    post_end_[t] = static_cast<uint32_t>(at);  // for now: where the term's docs start in flat_
    at += doc_freq_[t];
  }
  flat_.resize(refs_.size());
  for (size_t i = 0; i < docs_.size(); ++i) {
    const Doc& d = docs_[i];
    for (uint32_t r = d.refs_begin; r < d.refs_begin + d.refs_count; ++r) {
      flat_[post_end_[refs_[r]]++] = static_cast<uint32_t>(i);
    }
  }
  // Then encoded: the first doc apart (the writer measures it from the
  // term's last doc so far), varint gaps for the rest.
  first_doc_.resize(n);
  // 5 bytes bound a 32-bit varint. Never shrunk: a batch kept for the next
  // one (DocParallelism::spare_batches) grows it, and so zero-fills it, once.
  if (postings_.size() < flat_.size() * 5) postings_.resize(flat_.size() * 5);
  char* out = postings_.data();
  at = 0;
  for (size_t t = 0; t < n; ++t) {
    first_doc_[t] = flat_[at];
    for (size_t k = at + 1; k < at + doc_freq_[t]; ++k) {
      uint32_t gap = flat_[k] - flat_[k - 1];
      while (gap >= 0x80) {
        *out++ = static_cast<char>(gap | 0x80);
        gap >>= 7;
      }
      *out++ = static_cast<char>(gap);
    }
    at += doc_freq_[t];
    post_end_[t] = static_cast<uint32_t>(out - postings_.data());
  }
  ascending_ = true;
  for (size_t i = 1; i < docs_.size() && ascending_; ++i) ascending_ = id(i - 1) < id(i);
  sealed_ = true;
}

namespace {

size_t SharedPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

std::string Printable(std::string_view id) {
  std::string out;
  for (char c : id.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  if (id.size() > 200) out += "...";
  return out;
}

// Streams sorted (term, location) entries into prefix-compressed "terms"
// blocks and records each block's first term in the sparse index.
class TermsEncoder {
 public:
  TermsEncoder(FileBuilder* file, size_t block_bytes) : file_(file), block_bytes_(block_bytes) {}

  Status Add(std::string_view term, uint32_t doc_freq, BlockHandle postings, uint64_t list_offset,
             uint64_t list_len) {
    const bool first = block_.empty();
    if (first) first_term_.assign(term);
    const size_t shared = first ? 0 : SharedPrefix(last_term_, term);
    PutVarint64(&block_, shared);
    PutVarint64(&block_, term.size() - shared);
    block_.append(term.substr(shared));
    PutVarint32(&block_, doc_freq);
    if (first || postings.offset != prev_postings_offset_) {
      // Offsets grow with term order; the first entry of a block measures
      // from 0 so the block decodes on its own.
      PutVarint64(&block_, postings.offset - (first ? 0 : prev_postings_offset_));
      PutVarint64(&block_, postings.size);
      PutVarint64(&block_, list_offset);
    } else {
      PutVarint64(&block_, 0);
    }
    PutVarint64(&block_, list_len);
    prev_postings_offset_ = postings.offset;
    last_term_.assign(term);
    if (block_.size() >= block_bytes_) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (block_.empty()) return Status::Ok();
    FRESHET_ASSIGN_OR_RETURN(BlockHandle h, file_->AddBlock(block_, false));
    PutLengthPrefixed(&index_, first_term_);
    PutVarint64(&index_, h.offset);
    PutVarint64(&index_, h.size);
    block_.clear();
    return Status::Ok();
  }

  const std::string& index() const { return index_; }

 private:
  FileBuilder* file_;
  const size_t block_bytes_;
  std::string block_;
  std::string index_;
  std::string first_term_;
  std::string last_term_;
  uint64_t prev_postings_offset_ = 0;
};

// Finishes `file` into `out`: its bytes, or its spool and checksum.
Status FinishFile(FileBuilder& file, std::string_view index, uint64_t entries, uint64_t aux, SegmentFile* out) {
  if (file.spooled()) {
    FRESHET_ASSIGN_OR_RETURN(SpooledFile f, file.FinishSpooled(index, entries, aux));
    out->spool = std::move(f.file);
    out->spool_xxh64 = f.xxh64;
    return Status::Ok();
  }
  FRESHET_ASSIGN_OR_RETURN(out->bytes, file.Finish(index, entries, aux));
  return Status::Ok();
}

// Writes `file` to a new spool file in `spool_dir` as it grows; nothing
// when `spool_dir` is empty (the file stays in memory).
Status SpoolIfAsked(FileBuilder& file, const std::string& spool_dir) {
  if (spool_dir.empty()) return Status::Ok();
  FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<SpoolWriter> spool, SpoolWriter::Create(spool_dir));
  file.SpoolTo(std::move(spool));
  return Status::Ok();
}

// Turns (term, doc_freq, postings list) in ascending term order into the
// "terms" and "postings" files, in memory or spooled (spool_dir).
class PostingsEncoder {
 public:
  explicit PostingsEncoder(const SegmentWriterOptions& options)
      : terms_file_(FileKind::kTerms),
        postings_file_(FileKind::kPostings),
        terms_(&terms_file_, options.terms_block_bytes),
        block_bytes_(options.postings_block_bytes) {
    status_ = SpoolIfAsked(terms_file_, options.spool_dir);
    if (status_.ok()) status_ = SpoolIfAsked(postings_file_, options.spool_dir);
  }

  // REQUIRES: `term` above the previous call's.
  Status Add(std::string_view term, uint32_t doc_freq, std::string_view list) {
    FRESHET_RETURN_IF_ERROR(status_);
    if (!block_.empty() && block_.size() + list.size() > block_bytes_) FRESHET_RETURN_IF_ERROR(Flush());
    pending_.push_back({std::string(term), doc_freq, block_.size(), list.size()});
    block_.append(list);
    ++terms_count_;
    postings_count_ += doc_freq;
    return Status::Ok();
  }

  uint64_t terms_count() const { return terms_count_; }
  uint64_t postings_count() const { return postings_count_; }

  // REQUIRES: called once.
  Status Finish(SegmentFile* terms, SegmentFile* postings) {
    FRESHET_RETURN_IF_ERROR(status_);
    FRESHET_RETURN_IF_ERROR(Flush());
    FRESHET_RETURN_IF_ERROR(terms_.Flush());
    FRESHET_RETURN_IF_ERROR(FinishFile(terms_file_, terms_.index(), terms_count_, postings_count_, terms));
    return FinishFile(postings_file_, {}, terms_count_, postings_count_, postings);
  }

 private:
  struct Pending {
    std::string term;
    uint32_t doc_freq;
    uint64_t offset, len;
  };

  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    FRESHET_ASSIGN_OR_RETURN(BlockHandle h, postings_file_.AddBlock(block_, false));
    for (const Pending& p : pending_) FRESHET_RETURN_IF_ERROR(terms_.Add(p.term, p.doc_freq, h, p.offset, p.len));
    pending_.clear();
    block_.clear();
    return Status::Ok();
  }

  FileBuilder terms_file_, postings_file_;
  TermsEncoder terms_;
  const size_t block_bytes_;
  std::vector<Pending> pending_;
  std::string block_;
  uint64_t terms_count_ = 0, postings_count_ = 0;
  Status status_;
};

// A postings run: the in-memory index of the documents added since the
// previous run (SegmentWriterOptions::index_memory_bytes), written to a
// spool file in term order. Frames of fixed32 payload size | payload |
// fixed64 XXH64(payload); a payload holds whole entries, each
//   length-prefixed term | varint doc_freq | varint last doc |
//   length-prefixed list (varint first doc, then gaps: as in "postings").
constexpr size_t kRunFrameBytes = 1 << 20;
// What a distinct term costs the in-memory index besides its bytes: its
// list's string, its table slots and id entries, its counters.
constexpr size_t kTermOverheadBytes = 96;

class RunCursor {
 public:
  explicit RunCursor(std::shared_ptr<const SpoolFile> file) : file_(std::move(file)) {}

  // Loads the next entry; false at the end or on an error (status()).
  bool Next() {
    if (rest_.empty()) {
      if (pos_ == file_->size() || !status_.ok()) return false;
      if (!LoadFrame()) return false;
    }
    if (!GetLengthPrefixed(&rest_, &term) || !GetVarint32(&rest_, &doc_freq) || !GetVarint32(&rest_, &last_doc) ||
        !GetLengthPrefixed(&rest_, &list) || list.empty()) {
      status_ = Status::DataLoss("postings run " + file_->path() + ": bad entry");
      return false;
    }
    return true;
  }
  const Status& status() const { return status_; }

  std::string_view term, list;
  uint32_t doc_freq = 0, last_doc = 0;

 private:
  bool LoadFrame() {
    Result<std::string> size = file_->Read(pos_, 4);
    if (!size.ok()) return Fail(size.status());
    const uint32_t n = DecodeFixed32(size->data());
    if (n == 0 || n > file_->size() - pos_ - 4 || file_->size() - pos_ - 4 - n < 8) {
      return Fail(Status::DataLoss("postings run " + file_->path() + ": bad frame size"));
    }
    Result<std::string> frame = file_->Read(pos_ + 4, uint64_t{n} + 8);
    if (!frame.ok()) return Fail(frame.status());
    frame_ = std::move(frame).value();
    if (Xxh64(std::string_view(frame_).substr(0, n)) != DecodeFixed64(frame_.data() + n)) {
      return Fail(Status::DataLoss("postings run " + file_->path() + ": checksum mismatch"));
    }
    pos_ += 4 + uint64_t{n} + 8;
    rest_ = std::string_view(frame_).substr(0, n);
    return true;
  }
  bool Fail(Status st) {
    status_ = std::move(st);
    return false;
  }

  std::shared_ptr<const SpoolFile> file_;
  uint64_t pos_ = 0;
  std::string frame_;
  std::string_view rest_;
  Status status_;
};

}  // namespace

// Streams stored JSON, in doc order, into "stored" blocks.
// Data block: varint first_doc | varint count, then per entry (a varint gap
// to the previous doc, except for the first) | length-prefixed JSON.
// Index: per block varint first_doc | varint offset | varint size.
class SegmentWriter::StoredEncoder {
 public:
  // `spool_dir` non-empty: the file goes to a spool file there as it grows.
  StoredEncoder(size_t block_bytes, const std::string& spool_dir)
      : file_(FileKind::kStored), block_bytes_(block_bytes), status_(SpoolIfAsked(file_, spool_dir)) {}

  // REQUIRES: doc is larger than the previous call's.
  Status Add(uint32_t doc, std::string_view json) {
    if (!status_.ok()) return status_;
    if (count_ == 0) {
      first_doc_ = doc;
      entries_.assign(kHeaderRoom, '\0');
    } else {
      PutVarint32(&entries_, doc - prev_doc_);
    }
    PutLengthPrefixed(&entries_, json);
    prev_doc_ = doc;
    ++count_;
    if (entries_.size() - kHeaderRoom >= block_bytes_) return Flush();
    return Status::Ok();
  }

  // `stored` entries of `docs` documents, as the file `out`. REQUIRES:
  // called once.
  Status Finish(uint64_t stored, uint64_t docs, SegmentFile* out) {
    FRESHET_RETURN_IF_ERROR(status_);
    FRESHET_RETURN_IF_ERROR(Flush());
    return FinishFile(file_, index_, stored, docs, out);
  }

 private:
  Status Flush() {
    if (count_ == 0) return Status::Ok();
    // The block's header goes into the room left before its entries, so
    // that the entries are not copied again behind it.
    char header[kHeaderRoom];
    const auto n = static_cast<size_t>(EncodeVarint64(EncodeVarint64(header, first_doc_), count_) - header);
    std::memcpy(entries_.data() + kHeaderRoom - n, header, n);
    FRESHET_ASSIGN_OR_RETURN(BlockHandle h,
                             file_.AddBlock(std::string_view(entries_).substr(kHeaderRoom - n), true));
    PutVarint32(&index_, first_doc_);
    PutVarint64(&index_, h.offset);
    PutVarint64(&index_, h.size);
    entries_.clear();
    count_ = 0;
    return Status::Ok();
  }

  // Two varints of at most 5 bytes (32-bit values): the block's first doc
  // and its count.
  static constexpr size_t kHeaderRoom = 10;

  FileBuilder file_;
  const size_t block_bytes_;
  std::string index_;
  std::string entries_;  // kHeaderRoom bytes, then the entries
  uint32_t first_doc_ = 0, prev_doc_ = 0, count_ = 0;
  Status status_;  // the spool file could not be created
};

// "ids", encoded as the documents come in id order (see WriteIds for the
// format): a block is written each ids_per_block documents, so only the
// index (a first id per block) grows with the segment.
class SegmentWriter::IdsEncoder {
 public:
  // `spool_dir` non-empty: the file goes to a spool file there as it grows.
  IdsEncoder(uint32_t ids_per_block, const std::string& spool_dir)
      : file_(FileKind::kIds), ids_per_block_(ids_per_block), status_(SpoolIfAsked(file_, spool_dir)) {
    PutVarint32(&index_, ids_per_block_);
  }

  // REQUIRES: `id` above the previous call's.
  Status Add(std::string_view id, bool tombstone) {
    if (!status_.ok()) return status_;
    if (count_ == 0) {
      first_id_.assign(id);
      bits_.clear();
    }
    const size_t shared = count_ == 0 ? 0 : SharedPrefix(prev_id_, id);
    PutVarint64(&entries_, shared);
    PutVarint64(&entries_, id.size() - shared);
    entries_.append(id, shared);
    if (count_ % 8 == 0) bits_.push_back('\0');
    if (tombstone) bits_.back() = static_cast<char>(bits_.back() | (1 << (count_ % 8)));
    prev_id_.assign(id);
    if (++count_ == ids_per_block_) return Flush();
    return Status::Ok();
  }

  // `docs` ids, `tombstones` of them tombstones, as the file `out`.
  // REQUIRES: called once.
  Status Finish(uint64_t docs, uint64_t tombstones, SegmentFile* out) {
    FRESHET_RETURN_IF_ERROR(status_);
    FRESHET_RETURN_IF_ERROR(Flush());
    return FinishFile(file_, index_, docs, tombstones, out);
  }

 private:
  Status Flush() {
    if (count_ == 0) return Status::Ok();
    block_.clear();
    PutVarint64(&block_, count_);
    block_.append(entries_);
    block_.append(bits_);
    FRESHET_ASSIGN_OR_RETURN(BlockHandle h, file_.AddBlock(block_, false));
    PutLengthPrefixed(&index_, first_id_);
    PutVarint64(&index_, h.offset);
    PutVarint64(&index_, h.size);
    entries_.clear();
    count_ = 0;
    return Status::Ok();
  }

  FileBuilder file_;
  const uint32_t ids_per_block_;
  std::string index_, entries_, bits_, block_, first_id_, prev_id_;
  uint32_t count_ = 0;
  Status status_;  // the spool file could not be created
};

SegmentWriter::SegmentWriter(SegmentWriterOptions options)
    : options_(options),
      bytes_(std::make_unique<ByteArena>(1 << 20)),
      stored_(options.ids_ascending ? std::make_unique<StoredEncoder>(options.stored_block_bytes, options.spool_dir)
                                     : nullptr),
      ids_(options.ids_ascending && options.ids_per_block > 0
               ? std::make_unique<IdsEncoder>(options.ids_per_block, options.spool_dir)
               : nullptr),
      terms_(std::make_unique<SegmentTermTable>(1 << 12, 256 * 1024)),
      single_(std::make_unique<DocBatch>()) {}

SegmentWriter::~SegmentWriter() = default;

void SegmentWriter::Add(const IndexDoc& doc) {
  single_->Clear();
  single_->Add(doc);
  Add(*single_);
}

void SegmentWriter::Add(const DocBatch& batch) {
  assert(!finished_ && "SegmentWriter::Add after Finish");
  // Each distinct term of the batch once: its id here (its doc count below).
  const size_t n = batch.terms_->size();
  remap_.resize(n);
  // The table is far larger than the caches and the batch's terms are
  // scattered over it: ask for slots a few terms ahead.
  constexpr uint32_t kAhead = 8;
  for (uint32_t local = 0; local < n; ++local) {
    if (local + 2 * kAhead < n) terms_->Prefetch(batch.terms_->hash(local + 2 * kAhead));
    if (local + kAhead < n) terms_->PrefetchBytes(batch.terms_->hash(local + kAhead));
    const auto [id, added] = terms_->Intern(batch.terms_->term(local), batch.terms_->hash(local));
    if (added) {
      // The term's bytes, its list's string, its slots and counters.
      index_bytes_ += batch.terms_->term(local).size() + kTermOverheadBytes;
      doc_freq_.push_back(0);
      if (in_order_) {
        lists_.emplace_back();
        last_doc_.push_back(0);
      }
    }
    remap_[local] = id;
  }
  const std::string_view bytes = batch.bytes_;
  // A sealed batch in id order, after every doc so far: append each term's
  // run of postings whole.
  const bool whole = in_order_ && batch.sealed_ && batch.ascending_ && !batch.docs_.empty() &&
                     (num_docs_ == 0 || std::string_view(last_id_) < batch.id(0));
  if (!whole) {
    for (uint32_t local = 0; local < n; ++local) doc_freq_[remap_[local]] += batch.doc_freq_[local];
  } else {
    const auto base = static_cast<uint32_t>(num_docs_);
    // The lists are scattered over memory as the terms are: ask for a
    // term's list and last doc a few terms ahead, then (once the list has
    // arrived) for the end of its bytes, where the append writes.
    constexpr uint32_t kListAhead = 8;
    // The term's count is updated here too, not as it is interned: it
    // missed the cache there, with nothing asked for ahead.
    for (uint32_t local = 0; local < n && local < 2 * kListAhead; ++local) {
      __builtin_prefetch(&lists_[remap_[local]]);
      __builtin_prefetch(&last_doc_[remap_[local]]);
      __builtin_prefetch(&doc_freq_[remap_[local]]);
    }
    for (uint32_t local = 0; local < n; ++local) {
      if (local + 2 * kListAhead < n) {
        __builtin_prefetch(&lists_[remap_[local + 2 * kListAhead]]);
        __builtin_prefetch(&last_doc_[remap_[local + 2 * kListAhead]]);
        __builtin_prefetch(&doc_freq_[remap_[local + 2 * kListAhead]]);
      }
      if (local + kListAhead < n) {
        const std::string& ahead = lists_[remap_[local + kListAhead]];
        __builtin_prefetch(ahead.data() + ahead.size(), 1);
      }
      const uint32_t term = remap_[local];
      doc_freq_[term] += batch.doc_freq_[local];
      AppendPosting(term, base + batch.first_doc_[local]);
      const uint32_t begin = local == 0 ? 0 : batch.post_end_[local - 1];
      lists_[term].append(batch.postings_, begin, batch.post_end_[local] - begin);
      index_bytes_ += batch.post_end_[local] - begin + 5;
      last_doc_[term] = base + batch.last_doc_[local] - 1;
    }
  }
  for (const DocBatch::Doc& b : batch.docs_) {
    const std::string_view id = bytes.substr(b.id_begin, b.id_size);
    if (in_order_ && num_docs_ > 0 && !(std::string_view(last_id_) < id)) {
      if (stored_ != nullptr && status_.ok()) {
        status_ = Status::InvalidArgument("documents not added in ascending id order (ids_ascending): '" +
                                          Printable(id) + "' after '" + Printable(last_id_) + "'");
      }
      if (ids_ != nullptr) return;  // no docs_ to sort: the error above ends the segment
      if (runs_.empty()) SwitchToTermRefs();  // with runs, ids_ascending: the error above ends it
    }
    Doc d;
    if (ids_ == nullptr) d.id = bytes_->Copy(id);
    d.tombstone = b.tombstone;
    const auto doc = static_cast<uint32_t>(num_docs_);
    if (d.tombstone) {
      ++stats_.tombstones;
    } else {
      ++stats_.docs;
      const std::string_view stored = bytes.substr(b.id_begin + b.id_size, b.stored_size);
      if (stored_ == nullptr) {
        d.stored = bytes_->Copy(stored);
      } else if (status_.ok()) {
        status_ = stored_->Add(doc, stored);
      }
      d.terms_begin = num_refs_;
      d.terms_count = b.refs_count;
      num_refs_ += b.refs_count;
      for (uint32_t i = b.refs_begin; i < b.refs_begin + b.refs_count && !whole; ++i) {
        if (in_order_) {
          AppendPosting(remap_[batch.refs_[i]], doc);
          index_bytes_ += 2;
        } else {
          term_refs_.push_back(remap_[batch.refs_[i]]);
        }
      }
    }
    if (ids_ == nullptr) {
      docs_.push_back(d);
    } else if (status_.ok()) {
      status_ = ids_->Add(id, d.tombstone);
    }
    last_id_.assign(id);
    ++num_docs_;
  }
  if (options_.index_memory_bytes > 0 && stored_ != nullptr && !options_.spool_dir.empty() && in_order_ &&
      status_.ok() && index_bytes_ > options_.index_memory_bytes) {
    status_ = FlushRun();
  }
}

void SegmentWriter::AppendPosting(uint32_t term, uint32_t doc) {
  std::string& list = lists_[term];
  PutVarint32(&list, list.empty() ? doc : doc - last_doc_[term]);
  last_doc_[term] = doc;
}

void SegmentWriter::SwitchToTermRefs() {
  // Decode each term's list back into the docs' term ids. Term order within
  // a doc does not matter: Finish rebuilds each list in doc order.
  term_refs_.assign(num_refs_, 0);
  std::vector<uint64_t> fill(docs_.size());
  for (size_t i = 0; i < docs_.size(); ++i) fill[i] = docs_[i].terms_begin;
  for (uint32_t term = 0; term < lists_.size(); ++term) {
    std::string_view in = lists_[term];
    uint32_t doc = 0;
    for (bool first = true; !in.empty(); first = false) {
      uint32_t v = 0;
      [[maybe_unused]] const bool ok = GetVarint32(&in, &v);
      assert(ok);
      doc = first ? v : doc + v;
      term_refs_[fill[doc]++] = term;
    }
  }
  FreeBuffer(lists_);
  FreeBuffer(last_doc_);
  in_order_ = false;
}

uint64_t SegmentFile::Xxh64() const { return spool ? spool_xxh64 : freshet::Xxh64(bytes); }

Result<std::string> SegmentFile::Contents() const {
  if (!spool) return bytes;
  return spool->ReadAll();
}

Result<std::vector<SegmentFile>> SegmentWriter::Finish() {
  if (finished_) return Status::FailedPrecondition("SegmentWriter::Finish called twice");
  finished_ = true;
  FRESHET_RETURN_IF_ERROR(status_);
  if (options_.ids_per_block == 0) return Status::InvalidArgument("ids_per_block must be positive");
  if (num_docs_ > UINT32_MAX) {
    return Status::InvalidArgument("too many documents for one segment: " + std::to_string(num_docs_));
  }

  // The documents in id order, unless "ids" was written as they came.
  std::vector<uint32_t> order(ids_ == nullptr ? docs_.size() : 0);
  std::iota(order.begin(), order.end(), 0u);
  if (!in_order_) {
    std::sort(order.begin(), order.end(),
              [this](uint32_t a, uint32_t b) { return docs_[a].id < docs_[b].id; });
    for (size_t i = 1; i < order.size(); ++i) {
      if (docs_[order[i - 1]].id == docs_[order[i]].id) {
        return Status::InvalidArgument("duplicate document id '" + Printable(docs_[order[i]].id) + "'");
      }
    }
    // The postings lists, now that the doc numbers are known.
    lists_.assign(terms_->size(), std::string());
    last_doc_.assign(terms_->size(), 0);
    for (size_t pos = 0; pos < order.size(); ++pos) {
      const Doc& d = docs_[order[pos]];
      for (uint64_t i = d.terms_begin; i < d.terms_begin + d.terms_count; ++i) {
        AppendPosting(term_refs_[i], static_cast<uint32_t>(pos));
      }
    }
    FreeBuffer(term_refs_);
  }
  // The last run's flush (WriteTermsAndPostings) still reads it.
  if (runs_.empty()) FreeBuffer(last_doc_);

  std::vector<SegmentFile> files(4);
  files[0].name = kIdsFileName;
  files[1].name = kTermsFileName;
  files[2].name = kPostingsFileName;
  files[3].name = kStoredFileName;
  // The three encoders only read the documents; each builds its own files.
  // "stored" (LZ4) and "terms"+"postings" are the big ones.
  Result<std::string> ids = std::string(), stored = std::string();
  const bool streamed = stored_ != nullptr;
  if (streamed) {
    FRESHET_RETURN_IF_ERROR(stored_->Finish(stats_.docs, num_docs_, &files[3]));  // written as the docs came
    stored_.reset();
  }
  const bool ids_streamed = ids_ != nullptr;
  if (ids_streamed) {
    FRESHET_RETURN_IF_ERROR(ids_->Finish(num_docs_, stats_.tombstones, &files[0]));  // likewise
    ids_.reset();
  }
  uint64_t postings = 0, terms = 0;
  Status st;
  std::vector<std::function<void()>> parts = {
      [&] { st = WriteTermsAndPostings(&files[1], &files[2], &terms, &postings); }};
  if (!ids_streamed) parts.push_back([&] { ids = WriteIds(order); });
  if (!streamed) parts.push_back([&] { stored = WriteStored(order); });
  if (options_.threads > 1) {
    RunConcurrently(options_.pool, parts);
  } else {
    for (const auto& part : parts) part();
  }
  FRESHET_RETURN_IF_ERROR(st);
  FRESHET_RETURN_IF_ERROR(ids.status());
  FRESHET_RETURN_IF_ERROR(stored.status());
  if (!ids_streamed) files[0].bytes = std::move(ids).value();
  if (!streamed) files[3].bytes = std::move(stored).value();
  stats_.terms = terms;
  stats_.postings = postings;

  FreeBuffer(docs_);
  FreeBuffer(lists_);
  FreeBuffer(last_doc_);
  FreeBuffer(doc_freq_);
  terms_.reset();
  bytes_.reset();
  return files;
}

// Data block: varint count, then per id varint shared | varint unshared |
// suffix (prefix-compressed against the previous id in the block), then
// ceil(count/8) bytes of tombstone bits (bit i%8 of byte i/8, LSB first).
// Index: varint ids_per_block, then per block length-prefixed first id |
// varint offset | varint size.
Result<std::string> SegmentWriter::WriteIds(const std::vector<uint32_t>& order) const {
  IdsEncoder ids(options_.ids_per_block, std::string());
  for (uint32_t doc : order) FRESHET_RETURN_IF_ERROR(ids.Add(docs_[doc].id, docs_[doc].tombstone));
  SegmentFile file;
  FRESHET_RETURN_IF_ERROR(ids.Finish(order.size(), stats_.tombstones, &file));
  return std::move(file.bytes);
}

Result<std::string> SegmentWriter::WriteStored(const std::vector<uint32_t>& order) const {
  StoredEncoder stored(options_.stored_block_bytes, std::string());
  for (size_t doc = 0; doc < order.size(); ++doc) {
    const Doc& d = docs_[order[doc]];
    if (!d.tombstone) FRESHET_RETURN_IF_ERROR(stored.Add(static_cast<uint32_t>(doc), d.stored));
  }
  SegmentFile file;
  FRESHET_RETURN_IF_ERROR(stored.Finish(stats_.docs, order.size(), &file));
  return std::move(file.bytes);
}

// "postings": each term's list is varint first doc, then varint gaps (>= 1);
// lists are packed in term order into blocks of about postings_block_bytes
// and the index block is empty (lists are addressed from "terms").
//
// "terms" data block: entries until the payload ends, each
//   varint shared | varint unshared | suffix | varint doc_freq |
//   varint delta (postings block offset minus the previous entry's; the first
//   entry of a block measures from 0) |
//   if delta > 0: varint postings block size | varint list offset in block |
//   varint list length
// where a zero delta means "same postings block, list right after the
// previous entry's". Index: per block length-prefixed first term | varint
// offset | varint size.
std::vector<uint32_t> SegmentWriter::TermsInOrder() const {
  const size_t num_terms = terms_->size();
  std::vector<uint32_t> sorted(num_terms);
  std::iota(sorted.begin(), sorted.end(), 0u);
  auto less = [this](uint32_t a, uint32_t b) { return terms_->term(a) < terms_->term(b); };
  if (options_.threads > 1 && num_terms >= 4096) {
    // Half each, concurrently where the pool has room, then merge: terms are distinct, so the
    // order is the same as one sort's.
    const auto mid = sorted.begin() + static_cast<ptrdiff_t>(num_terms / 2);
    RunConcurrently(options_.pool, {[&] { std::sort(sorted.begin(), mid, less); },
                                    [&] { std::sort(mid, sorted.end(), less); }});
    std::inplace_merge(sorted.begin(), mid, sorted.end(), less);
  } else {
    std::sort(sorted.begin(), sorted.end(), less);
  }
  return sorted;
}

Status SegmentWriter::FlushRun() {
  Result<std::unique_ptr<SpoolWriter>> spool = SpoolWriter::Create(options_.spool_dir);
  if (!spool.ok()) return spool.status();
  std::string frame;
  auto emit = [&]() -> Status {
    if (frame.empty()) return Status::Ok();
    std::string head;
    PutFixed32(&head, static_cast<uint32_t>(frame.size()));
    FRESHET_RETURN_IF_ERROR((*spool)->Append(head));
    FRESHET_RETURN_IF_ERROR((*spool)->Append(frame));
    std::string sum;
    PutFixed64(&sum, Xxh64(frame));
    FRESHET_RETURN_IF_ERROR((*spool)->Append(sum));
    frame.clear();
    return Status::Ok();
  };
  for (uint32_t t : TermsInOrder()) {
    PutLengthPrefixed(&frame, terms_->term(t));
    PutVarint32(&frame, doc_freq_[t]);
    PutVarint32(&frame, last_doc_[t]);
    PutLengthPrefixed(&frame, lists_[t]);
    lists_[t] = std::string();  // release as we go
    if (frame.size() >= kRunFrameBytes) FRESHET_RETURN_IF_ERROR(emit());
  }
  FRESHET_RETURN_IF_ERROR(emit());
  FRESHET_ASSIGN_OR_RETURN(std::shared_ptr<const SpoolFile> file, (*spool)->Finish());
  runs_.push_back(std::move(file));
  terms_->Clear();
  FreeBuffer(lists_);
  last_doc_.clear();
  doc_freq_.clear();
  index_bytes_ = 0;
  return Status::Ok();
}

Status SegmentWriter::WriteTermsAndPostings(SegmentFile* terms_out, SegmentFile* postings_out,
                                            uint64_t* num_terms, uint64_t* num_postings) {
  PostingsEncoder encoder(options_);
  if (runs_.empty()) {
    for (uint32_t t : TermsInOrder()) {
      FRESHET_RETURN_IF_ERROR(encoder.Add(terms_->term(t), doc_freq_[t], lists_[t]));
      lists_[t] = std::string();  // release as we go
    }
  } else {
    // The runs hold consecutive ranges of documents, in run order: a term's
    // list is its lists in run order, each one's first doc re-encoded as a
    // gap from the previous one's last.
    if (terms_->size() > 0) FRESHET_RETURN_IF_ERROR(FlushRun());
    std::vector<std::unique_ptr<RunCursor>> cursors;
    for (const auto& run : runs_) cursors.push_back(std::make_unique<RunCursor>(run));
    auto greater = [&cursors](size_t a, size_t b) {
      const int c = cursors[a]->term.compare(cursors[b]->term);
      return c != 0 ? c > 0 : a > b;
    };
    std::vector<size_t> heap;
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (cursors[i]->Next()) heap.push_back(i);
      FRESHET_RETURN_IF_ERROR(cursors[i]->status());
    }
    std::make_heap(heap.begin(), heap.end(), greater);
    std::string term, list;
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), greater);
      size_t i = heap.back();
      heap.pop_back();
      term.assign(cursors[i]->term);
      list.assign(cursors[i]->list);
      uint64_t doc_freq = cursors[i]->doc_freq;
      uint32_t last = cursors[i]->last_doc;
      for (;;) {
        if (cursors[i]->Next()) {
          heap.push_back(i);
          std::push_heap(heap.begin(), heap.end(), greater);
        }
        FRESHET_RETURN_IF_ERROR(cursors[i]->status());
        if (heap.empty() || cursors[heap.front()]->term != term) break;
        std::pop_heap(heap.begin(), heap.end(), greater);
        i = heap.back();
        heap.pop_back();
        std::string_view more = cursors[i]->list;
        uint32_t first = 0;
        if (!GetVarint32(&more, &first) || first <= last) {
          return Status::DataLoss("postings runs out of document order at term '" + Printable(term) + "'");
        }
        PutVarint32(&list, first - last);
        list.append(more);
        doc_freq += cursors[i]->doc_freq;
        last = cursors[i]->last_doc;
      }
      if (doc_freq > UINT32_MAX) return Status::InvalidArgument("too many postings for term '" + Printable(term) + "'");
      FRESHET_RETURN_IF_ERROR(encoder.Add(term, static_cast<uint32_t>(doc_freq), list));
    }
    runs_.clear();  // the spool files go with them
  }
  *num_terms = encoder.terms_count();
  *num_postings = encoder.postings_count();
  return encoder.Finish(terms_out, postings_out);
}

}  // namespace freshet
