// Reads a list of objects into a consumer: fetches them (in key order, a
// few at a time), parses them on the compute pool, and hands the records to
// the consumer in key order, all three overlapping, with bounded memory.
// The Builder reads a snapshot this way (into a full's writers, or into a
// sorter) and a restart's window (into the window state).
//
// Memory: bodies fetched and not yet parsed stay under max_pending_bytes
// (or one unit, when larger); records parsed and not yet consumed are
// those of at most max_pieces_ahead pieces. A big object is read in ranges
// of piece_bytes, each parsed on its own (a line across two ranges is
// joined): the records of a 20 MB object weigh about 40 MB, and a consumer
// slower than the parse (a full's writers) would otherwise have several
// such objects' bodies and records waiting for it, whose first touch costs
// CPU of its own.
//
// Asio-free: the store's callbacks and the pool's tasks drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "config/options.h"
#include "freshet/status.h"
#include "ingest/batch_input.h"
#include "storage/object_store.h"

namespace freshet {

// Takes one part of the input: the records and quarantine of one piece, in
// key then line order, and the objects it completes (the last range of
// each: with piece_bytes 0, every object whole). Called in key order, one
// call at a time, on a pool thread. A failure stops the read: nothing after
// that part is fetched, parsed or consumed, and the read ends with it.
using ChunkConsumer = std::function<Status(std::vector<ObjectInfo> objects, DecodedInput* part)>;

// A start function for AwaitStore<DecodedInput> (actors/store_await.h).
// Objects are read in units (a whole object, or a range of piece_bytes of
// one larger than that which is not named .lz4), at most `parallelism` at
// once, in key order; a unit starts only while the units fetched (or being
// fetched) and not yet parsed stay under max_pending_bytes (the first one
// always does). Units are cut into pieces in order as they arrive: a range
// is one piece (its whole lines; the line it finishes, begun in the range
// before, is joined to it), whole objects that arrived together are one,
// up to piece_bytes. Pieces are parsed in order, at most max_pieces_ahead
// of the one the consumer takes next. A big object that turns out to be
// LZ4 anyway (by its first bytes) is read again whole and parsed whole.
//
// Objects that changed (ETag or size) or vanished since they were listed
// are skipped and named in *moved: the consumer has then seen an
// incomplete input, which the caller must discard. The result holds the
// counts only (records and quarantine went to the consumer). On failure,
// some parts may have been consumed.
struct FetchParse {
  ObjectStore* store = nullptr;
  ThreadPool* pool = nullptr;
  const SchemaOptions* schema = nullptr;
  std::vector<ObjectInfo> objects;  // read in key order whatever their order here
  size_t parallelism = 1;           // fetches at once
  std::shared_ptr<std::vector<std::string>> moved;  // never null
  ChunkConsumer consume;            // required
  // Bodies fetched and not yet parsed, in bytes; 0: no limit.
  uint64_t max_pending_bytes = 0;
  // Objects larger than this are read and parsed in ranges of this size
  // (plain NDJSON only: an LZ4 object is parsed whole); smaller ones that
  // arrive together are parsed together up to this size. 0: objects are
  // read whole, a few groups of them per pool thread.
  size_t piece_bytes = 0;
  // Pieces parsing, or parsed and waiting for the consumer. 0: the pool's
  // threads + 1 (one being consumed, the others being parsed).
  size_t max_pieces_ahead = 0;
  // Each piece's records are packed into an arena of their own (RecordParser::
  // SetArena), which the consumer's part holds (DecodedInput::arena): the
  // consumer must take it for as long as it keeps any of those records.
  bool pack_records = false;

  void operator()(StoreCallback<DecodedInput> done);
};

}  // namespace freshet
