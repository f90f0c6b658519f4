// Entities -> IndexDocs: the hierarchy join and the delta fan-out.
//
// A document is one leaf entity (an ad) joined with its ancestors (ad group,
// campaign):
// - Servable: the leaf and every ancestor exist, are not deleted and are
//   active. (Flat schema: the record is not deleted and, when its level has
//   a status field, active.)
// - Fields: the leaf's own fields, plus from each ancestor the fields in
//   that ancestor level's `inherit` list. On a name clash the nearest wins:
//   the leaf, then its parent, then the grandparent.
// - Terms: for each text field, MakeTerm(field, token) per Tokenize(value)
//   token; for each keyword field, MakeTerm(field, value) with strings as
//   is, numbers as their canonical JSON text, arrays element by element.
//   Order: text fields then keyword fields, each in config order.
// - Stored: {"id":<leaf id>, then each stored field present, in config
//   order, as its canonical JSON value}: deterministic bytes.
//
// Full index: every servable leaf of the snapshot. Delta: every affected
// leaf, re-emitted from the effective state (see BuildDeltaDocs), as a
// document when servable or a tombstone (id only) when not. The effective
// record of an entity is the base's when its version is higher than the
// window's, else the window's: on a version tie the update shows.
//
// REQUIRES (every function): the tables were parsed with the same schema
// (RecordParser over these SchemaOptions): EntityRecord::fields is read by
// catalog index.
// Pure functions; safe on any thread. The Stream* forms may run parts on a
// thread pool's workers (DocParallelism); every part has finished when they
// return.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "config/options.h"
#include "ingest/entity_table.h"
#include "ingest/base_entities.h"
#include "ingest/window_state.h"
#include "index/index_doc.h"
#include "index/segment_writer.h"

namespace freshet {

struct DocBuildStats {
  uint64_t entities = 0;        // full: snapshot entities; delta: window entities
  uint64_t leaves = 0;          // full: leaf entities examined; delta: affected leaves
  uint64_t stale_updates = 0;   // delta: window records older than the base's version
  uint64_t leaves_updated = 0;  // delta: leaves changed in the window themselves
  uint64_t fanout = 0;          // delta: leaves re-emitted only because an ancestor changed
  uint64_t docs = 0;            // live documents emitted
  uint64_t tombstones = 0;      // delta: tombstones emitted
  uint64_t unservable = 0;      // full: leaves left out (deleted, inactive, orphaned)
  uint64_t terms = 0;           // terms emitted (before per-doc dedupe)
  uint64_t token_errors = 0;    // text values Tokenize rejected (indexed without tokens)
};

// Receives the documents a batch at a time, in id order, on the thread that
// called Stream*. The batch is valid only during the call (typically:
// SegmentWriter::Add(batch)).
using BatchSink = std::function<void(const DocBatch&)>;

// Where Stream* make documents: up to `threads` tasks on `pool` beside the
// calling thread (which feeds the sink and makes blocks nobody took).
// Default: the calling thread only. Does not change the output.
struct DocParallelism {
  ThreadPool* pool = nullptr;
  size_t threads = 1;
  // Leaves per block of documents (one DocBatch, one task's unit of work).
  // Does not change the output. The writer interns each block's distinct
  // terms and appends each one's postings once: larger blocks do that less
  // often (on the side-by-side corpus, a block's distinct terms number 35%
  // of its postings at 512 leaves, 26% at 2,048 and 17% at 8,192) but
  // hold more in flight and leave a small delta fewer blocks to share
  // between threads.
  size_t block_leaves = kDefaultBlockLeaves;
  static constexpr size_t kDefaultBlockLeaves = 512;
  // Where a caller that streams in many calls (a full, one run at a time)
  // keeps its DocBatches between them: a call takes its blocks from here
  // and puts them back when it returns, so that each run's blocks do not
  // grow their term tables and buffers from nothing again. nullptr: blocks
  // live for one call. One call at a time per vector.
  std::vector<DocBatch>* spare_batches = nullptr;
};

// The full (base) index documents: every servable leaf of `snapshot`, in id
// order, made as `par` allows.
// Memory: a few blocks of documents in flight, not the whole set.
void StreamFullDocs(const SchemaOptions& schema, const EntityTable& snapshot, DocParallelism par,
                    const BatchSink& sink, DocBuildStats* stats = nullptr);

// The full's documents, described without being made: calls
// fn(i, stored) for each servable record i of `snapshot`'s leaf run (the
// leaves StreamFullDocs makes documents of), in order, with the catalog fields its document's stored JSON holds after
// "id", in their order there.
void ForEachFullDocShape(const SchemaOptions& schema, const EntityTable& snapshot,
                         const std::function<void(size_t leaf, const std::vector<uint32_t>& stored)>& fn);

// The full built a part at a time, for a snapshot read in key order
// (record_runs.h) rather than held: `leaves` is a run of the snapshot's
// leaf records in id order, `ancestors` holds its records above the leaf
// level. Called on consecutive runs, the sink receives the documents
// StreamFullDocs makes of the whole snapshot (and fn the shapes, with
// `leaf` counted from the run's start). stats->entities is the caller's
// to count.
void StreamFullDocsOf(const SchemaOptions& schema, const EntityTable& ancestors,
                      std::span<const EntityRecord> leaves, DocParallelism par, const BatchSink& sink,
                      DocBuildStats* stats = nullptr);
void ForEachFullDocShapeOf(const SchemaOptions& schema, const EntityTable& ancestors,
                           std::span<const EntityRecord> leaves,
                           const std::function<void(size_t leaf, const std::vector<uint32_t>& stored)>& fn);

// StreamFullDocs, collected: every servable leaf of `snapshot`, sorted by id.
std::vector<IndexDoc> BuildFullDocs(const SchemaOptions& schema, const EntityTable& snapshot,
                                    DocBuildStats* stats = nullptr);

// The delta documents for `window` (the deduplicated updates of the window)
// over `base` (the snapshot the live full index was built from), sorted by
// id.
//
// The effective version of an entity is the newer (CompareVersions) of its
// base and window records; a window record that is older than the base's is
// stale and changes nothing. The affected leaves are
//   the leaves with a non-stale window record
//   + every current child (by effective parent) of an entity with a
//     non-stale window record, transitively down to the leaves.
// Each affected leaf is emitted from the effective state of itself and its
// ancestors (the base supplies whatever did not change), as a document when
// servable, else as a tombstone that shadows the base.
//
// Streamed to `sink` in id order, made as `par` allows (as StreamFullDocs).
void StreamDeltaDocs(const SchemaOptions& schema, const EntityTable& base, const EntityTable& window,
                     DocParallelism par, const BatchSink& sink, DocBuildStats* stats = nullptr);

// StreamDeltaDocs, collected.
std::vector<IndexDoc> BuildDeltaDocs(const SchemaOptions& schema, const EntityTable& base,
                                     const EntityTable& window, DocBuildStats* stats = nullptr);

// One incremental batch's segment: StreamDeltaDocs's rule with `touched`
// (WindowState::TakeTouched: the entities whose window version changed
// this batch) as the roots instead of the whole window. A touched entity
// whose window version went back to an older one or left the window (its
// object was rewritten or left the source) is a root when its window
// version showed before: a leaf shows its base version again, or a
// tombstone when the base has none.
//
// The chain property (window_state_test): with objects only added, the
// union of the segments of successive batches, a newer segment's document
// replacing an older one's, equals BuildDeltaDocs(base, the window so far)
// document for document: an affected leaf is re-emitted in the batch
// where anything in its ancestor chain last changed, from the state that
// still holds.
void StreamTouchedDocs(const SchemaOptions& schema, const EntityTable& base, const WindowState& window,
                       const std::vector<TouchedEntity>& touched, DocParallelism par, const BatchSink& sink,
                       DocBuildStats* stats = nullptr);

// The same two, with the base read from the full's entities segment
// (base_entities.h) instead of a parsed snapshot: the same documents.
// REQUIRES (after): base.status().ok(), or the output is incomplete.
void StreamTouchedDocs(const SchemaOptions& schema, const BaseEntities& base, const WindowState& window,
                       const std::vector<TouchedEntity>& touched, DocParallelism par, const BatchSink& sink,
                       DocBuildStats* stats = nullptr);
void StreamDeltaDocs(const SchemaOptions& schema, const BaseEntities& base, const EntityTable& window,
                     DocParallelism par, const BatchSink& sink, DocBuildStats* stats = nullptr);

// StreamTouchedDocs, collected.
std::vector<IndexDoc> BuildTouchedDocs(const SchemaOptions& schema, const EntityTable& base, const WindowState& window,
                                       const std::vector<TouchedEntity>& touched, DocBuildStats* stats = nullptr);

}  // namespace freshet
