// Parsed records into (level, id) order, the newest of each entity kept
// (EntityTable's order), in bounded memory: an external sort.
//
// RecordSorter holds what it is given until the held records exceed
// `memory_bytes`; it then sorts them, drops the older copies and writes
// them to the scratch directory as one run (LZ4 blocks, each checksummed).
// Finish merges the runs and what is still held into one stream, as
// Lucene flushes segments past its RAM buffer and merges them. The stream
// is the same sequence of records whatever the limit, the number of runs
// or the order records were added in, because "newest" is a total order
// (entity_table.h).
//
// Run files are the sorter's (then the stream's) own: removed when the
// owner is destroyed; a kill leaves them in the scratch directory, which
// the daemon empties at start-up (RemoveScratchRuns).
//
// Thread-compatible: one thread at a time per sorter or stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "freshet/status.h"
#include "ingest/entity_record.h"

namespace freshet {

struct RecordSorterOptions {
  // Records held in memory (RecordFootprint) before they are written as a
  // run. 0: never write a run (everything is held).
  size_t memory_bytes = 0;
  // Where runs are written; created at the first run. Required when
  // memory_bytes > 0.
  std::string scratch_dir;
};

// The memory a held record takes: the struct and its strings' buffers.
size_t RecordFootprint(const EntityRecord& r);

// Removes the run files (and spool files, base/spool_file.h) a dead
// process left in `scratch_dir`: only files so named, and not those of a
// live process (another daemon may share the directory). Absent dir:
// nothing to do.
Status RemoveScratchRuns(const std::string& scratch_dir);

class SortedRecords;

class RecordSorter {
 public:
  explicit RecordSorter(RecordSorterOptions options);
  ~RecordSorter();
  RecordSorter(const RecordSorter&) = delete;
  RecordSorter& operator=(const RecordSorter&) = delete;

  // Takes every record of *records (left empty). May write a run. An I/O
  // error names the file and sticks: later calls return it.
  Status Add(std::vector<EntityRecord>* records);

  // No more input: the newest record of each (level, id), in order. Call
  // once; the sorter is empty afterwards.
  Result<std::unique_ptr<SortedRecords>> Finish();

  size_t runs_written() const { return runs_.size(); }
  uint64_t bytes_written() const { return bytes_written_; }
  // Footprint of the records held now.
  size_t held_bytes() const { return held_bytes_; }
  // Whether every record was added in key order, (level, id) never
  // decreasing: such an input needed no sort.
  bool in_key_order() const { return in_key_order_; }

 private:
  struct Run;
  Status Spill();

  const RecordSorterOptions options_;
  std::vector<EntityRecord> held_;
  size_t held_bytes_ = 0;
  uint64_t dropped_ = 0;  // older copies dropped while writing runs
  uint64_t bytes_written_ = 0;
  std::vector<std::string> runs_;  // run file paths, in the order written
  Status status_;
  bool in_key_order_ = true;
  bool has_last_ = false;
  uint16_t last_level_ = 0;  // key of the last record added
  std::string last_id_;
};

// The merged stream. Holds one decoded block per run.
class SortedRecords {
 public:
  ~SortedRecords();
  SortedRecords(const SortedRecords&) = delete;
  SortedRecords& operator=(const SortedRecords&) = delete;

  // The next record into *out (overwritten); false at the end, or on a
  // read error (status() then says which run file and where).
  bool Next(EntityRecord* out);
  const Status& status() const { return status_; }
  // Older copies dropped, in the runs and in the merge so far: at the end,
  // the records added minus the records streamed.
  uint64_t duplicates() const { return dropped_; }
  // Records streamed so far (a stream is read once).
  uint64_t streamed() const { return streamed_; }

  class Cursor;  // one run (record_runs.cc)

 private:
  friend class RecordSorter;
  SortedRecords(std::vector<std::unique_ptr<Cursor>> cursors, uint64_t dropped);
  bool Less(size_t a, size_t b) const;  // cursors by key, newest first

  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<size_t> heap_;  // cursors with a current record, min-heap by Less
  uint64_t dropped_ = 0;
  uint64_t streamed_ = 0;
  Status status_;
};

}  // namespace freshet
