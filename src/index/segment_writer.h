// Builds one segment (index format v1, see segment_format.h) from analysed
// documents, entirely in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/spool_file.h"
#include "base/thread_pool.h"
#include "freshet/status.h"
#include "index/index_doc.h"

namespace freshet {

// One output file: `name` is one of "ids", "terms", "postings", "stored"
// (or another file of a generation: quarantine, a full's entities).
struct SegmentFile {
  std::string name;
  std::string bytes;  // the content, unless spooled
  // Or the file was written to a spool as it was encoded
  // (SegmentWriterOptions::spool_dir): where the content is, and its XXH64.
  // `bytes` is then empty.
  std::shared_ptr<const SpoolFile> spool;
  uint64_t spool_xxh64 = 0;

  uint64_t size() const { return spool ? spool->size() : bytes.size(); }
  // XXH64 of the content (index/checksum.h), spooled or not.
  uint64_t Xxh64() const;
  // The content, read back from the spool if need be (tools, tests).
  Result<std::string> Contents() const;
};

// `docs` counts live documents only; num_docs() of a reader is
// docs + tombstones. `postings` counts (term, doc) pairs.
struct SegmentStats {
  uint64_t docs = 0, tombstones = 0, terms = 0, postings = 0;
  friend bool operator==(const SegmentStats&, const SegmentStats&) = default;
};

// Block sizes. They shape the bytes, so every writer of a generation must
// use the same values (the defaults) for outputs to be reproducible; readers
// accept any values. Tests shrink them to exercise many blocks.
struct SegmentWriterOptions {
  // Ids per block of "ids"; lookups decode one such block. Default: 64.
  uint32_t ids_per_block = 64;
  // A "terms" block is closed once its payload reaches this size. Default: 4 KiB.
  size_t terms_block_bytes = 4 * 1024;
  // Posting lists are packed into "postings" blocks up to this size; a longer
  // list gets a block of its own. Default: 4 KiB.
  size_t postings_block_bytes = 4 * 1024;
  // A "stored" block is closed once its uncompressed payload reaches this
  // size, then LZ4-compressed if that saves >= 1/8. Default: 128 KiB. LZ4
  // finds more repeats in a larger block: on the side-by-side corpus the
  // stored file is 6.4% smaller than with 32 KiB blocks (74.5 vs 79.6 MB
  // of LZ4 for 199 MB of JSON), for the same compression CPU; fetching one
  // document then decodes up to 128 KiB (tens of microseconds).
  size_t stored_block_bytes = 128 * 1024;
  // Threads Finish() may use: the files are encoded concurrently, on the
  // calling thread and `pool`'s workers (base/thread_pool.h ParallelFor).
  // Does not change the bytes. Default: 1 (the calling thread only).
  size_t threads = 1;
  ThreadPool* pool = nullptr;  // nullptr: the calling thread only
  // A promise that documents are added in strictly ascending id order (as
  // the build adds them). The writer then encodes "ids" and compresses
  // "stored" blocks as documents arrive instead of holding every
  // document's id and JSON until Finish: its memory is the index's alone. A document out of order makes Finish fail with
  // kInvalidArgument. Does not change the bytes. Default: false.
  bool ids_ascending = false;
  // With ids_ascending: "stored", the one file as large as the input, is
  // written to a spool file in this directory as it is encoded
  // (base/spool_file.h) and returned as SegmentFile::spool, so the writer
  // never holds it. Empty: held in memory. Does not change the bytes.
  // "ids" is then spooled too as it is encoded, and "terms" and
  // "postings" as Finish writes them.
  std::string spool_dir;
  // With ids_ascending and spool_dir: once the in-memory index (postings
  // lists and terms, about) exceeds this many bytes, the writer writes it
  // to a spool file as a sorted run and starts afresh, as Lucene flushes a
  // segment; Finish merges the runs. 0: never. Does not change the bytes.
  size_t index_memory_bytes = 0;
};

class SegmentTermTable;  // segment_writer.cc

// Documents analysed together, ready for SegmentWriter::Add(const DocBatch&):
// each distinct term of the batch once (with its hash and the number of the
// batch's docs that have it), each doc's distinct terms as indexes into
// them, ids and stored JSON back to back. The writer then interns a batch's
// few thousand distinct terms rather than every term of every doc, so the
// threads that make documents do most of the indexing work and the one that
// owns the writer little.
//
// Thread-safety: none; fill a batch on one thread, then hand it over whole.
class DocBatch {
 public:
  DocBatch();
  ~DocBatch();
  DocBatch(DocBatch&&) noexcept;
  DocBatch& operator=(DocBatch&&) noexcept;

  // Copies what the writer needs of `doc` (see SegmentWriter::Add).
  void Add(const IndexDoc& doc);
  // Optional, once every doc is added: lays the batch's postings out term
  // by term, so that the writer appends each term's run whole instead of
  // one posting per (doc, term). Call it on the thread that filled the
  // batch: that thread then does the work instead of the writer's.
  void Seal();
  // Empties the batch, keeping its buffers for the next one.
  void Clear();
  size_t size() const { return docs_.size(); }

 private:
  friend class SegmentWriter;
  std::string_view id(size_t i) const;
  struct Doc {
    size_t id_begin = 0;  // into bytes_; the stored JSON follows the id
    uint32_t id_size = 0;
    uint32_t stored_size = 0;
    uint32_t refs_begin = 0;  // into refs_
    uint32_t refs_count = 0;
    bool tombstone = false;
  };

  std::string bytes_;
  std::vector<Doc> docs_;
  std::unique_ptr<SegmentTermTable> terms_;  // the batch's distinct terms
  std::vector<uint32_t> doc_freq_;           // by batch term id
  std::vector<uint32_t> last_doc_;           // by batch term id: 1 + the last doc that had it
  std::vector<uint32_t> refs_;               // each doc's distinct batch term ids
  std::vector<uint64_t> term_hashes_;        // scratch (Add): the doc's terms' hashes
  // Seal():
  bool sealed_ = false;
  bool ascending_ = false;         // ids strictly ascending within the batch
  std::vector<uint32_t> first_doc_;  // by batch term id: its first doc in the batch
  std::string postings_;           // by batch term id: varint gaps between its docs after the first (to post_end_.back(); longer)
  std::vector<uint32_t> post_end_;   // by batch term id: end of its gaps in postings_
  std::vector<uint32_t> flat_;       // scratch: each term's docs, term after term
};

// Collects documents in any order and writes them as one segment. Documents
// are numbered 0..N-1 in ascending bytewise order of id, so the same set of
// documents always yields byte-identical files regardless of Add order.
//
// Terms are interned as they are added (one copy of each distinct term);
// ids and stored JSON are copied into large chunks, a few allocations per
// megabyte rather than per document. Documents added in id order (as the
// build adds them) cost about 1-2 bytes per posting and Finish neither
// sorts nor transposes; otherwise 4 bytes per (doc, term) until Finish,
// which then needs about 8.
//
// Thread-safety: none; use one writer per thread.
class SegmentWriter {
 public:
  explicit SegmentWriter(SegmentWriterOptions options = {});
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Copies what it needs of `doc`. Repeated terms within a doc are deduped.
  // A tombstone's terms and stored text are ignored (tombstones have
  // neither).
  // REQUIRES: Finish() has not been called.
  void Add(const IndexDoc& doc);
  // Adds the batch's documents, in the batch's order; the same files result
  // as from adding them one by one.
  // REQUIRES: Finish() has not been called.
  void Add(const DocBatch& batch);

  // Sorts the documents and returns the files "ids", "terms", "postings",
  // "stored", in that order. Two docs with the same id → kInvalidArgument
  // naming it. May be called once; later calls → kFailedPrecondition.
  // With options.threads > 1 and a pool, parts run on the pool's workers
  // (and the calling thread, which may itself be one of them).
  Result<std::vector<SegmentFile>> Finish();

  // docs/tombstones count what was added; terms/postings are set by Finish().
  const SegmentStats& stats() const { return stats_; }

 private:
  struct Doc {
    std::string_view id;      // into bytes_
    std::string_view stored;  // into bytes_ (empty when ids_ascending)
    uint64_t terms_begin = 0;  // its first (doc, term) pair; an index into term_refs_ once out of order
    uint32_t terms_count = 0;
    bool tombstone = false;
  };
  class ByteArena;
  class StoredEncoder;
  class IdsEncoder;

  Result<std::string> WriteIds(const std::vector<uint32_t>& order) const;
  Result<std::string> WriteStored(const std::vector<uint32_t>& order) const;
  Status WriteTermsAndPostings(SegmentFile* terms, SegmentFile* postings, uint64_t* num_terms,
                               uint64_t* num_postings);
  // The term ids in bytewise order of their terms.
  std::vector<uint32_t> TermsInOrder() const;
  // Writes the in-memory index as a run (index_memory_bytes) and clears it.
  Status FlushRun();
  void AppendPosting(uint32_t term, uint32_t doc);
  void SwitchToTermRefs();

  const SegmentWriterOptions options_;
  SegmentStats stats_;
  Status status_;  // sticky: the first error of Add, returned by Finish
  bool finished_ = false;
  bool in_order_ = true;  // every Add so far had a larger id than the one before
  // Every document added, unless ids_ascending: those go straight into
  // ids_ and stored_, and only the count and the last id are kept, so the
  // writer's memory does not grow with the documents.
  std::vector<Doc> docs_;
  uint64_t num_docs_ = 0;
  std::string last_id_;
  std::unique_ptr<ByteArena> bytes_;  // ids and stored JSON, unless ids_ascending
  std::unique_ptr<StoredEncoder> stored_;  // ids_ascending: "stored", written as docs arrive
  std::unique_ptr<IdsEncoder> ids_;        // ids_ascending: "ids", likewise
  std::unique_ptr<SegmentTermTable> terms_;  // term <-> dense id
  std::vector<uint32_t> doc_freq_;    // by term id
  uint64_t num_refs_ = 0;             // (doc, term) pairs so far
  // While docs arrive in id order, their numbers are final, and each term's
  // postings list is kept as the "postings" file encodes it (varint first
  // doc, then gaps): about a quarter of the memory of per-doc term ids, and
  // Finish only copies it. The first doc out of order turns the lists into
  // term_refs_, from which Finish rebuilds them once the docs are sorted.
  std::vector<std::string> lists_;    // by term id
  std::vector<uint32_t> last_doc_;    // by term id: the last doc in its list
  std::vector<uint32_t> term_refs_;   // out of order: each doc's distinct term ids
  std::vector<uint32_t> remap_;       // Add(DocBatch): batch term id -> term id
  std::unique_ptr<DocBatch> single_;  // Add(IndexDoc) goes through a batch of one
  // index_memory_bytes: the runs written so far, in document order, and
  // the in-memory index's approximate size.
  std::vector<std::shared_ptr<const SpoolFile>> runs_;
  size_t index_bytes_ = 0;
};

}  // namespace freshet
