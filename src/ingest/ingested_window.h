// The Builder's incremental ingest (SPEC §4): the window's objects as
// ingested so far, kept between triggers by object key + ETag, with their
// parsed records (WindowState: dedupe and the parent -> children relation)
// and their quarantined records.
//
// A trigger diffs the plan's window against what is held (Diff): objects
// not held, or held with another ETag, are fetched and parsed; held objects
// the window no longer lists (the window slid past them, or the source
// deleted or rewrote them) leave. Apply() makes the change; the state's
// touched entities (WindowState::TakeTouched) are then what the batch's
// segment must re-emit.
//
// `head` names the chain segment whose window the state reflects: the
// Builder keeps using the state only while the plan extends that segment,
// and rebuilds it from the chain's manifests otherwise (a restart, a batch
// that failed after the state moved on).
//
// Pure and synchronous; one owner at a time (the Builder, or the pool task
// it hands the window to).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "freshet/time.h"
#include "ingest/batch_input.h"
#include "ingest/build_schema.h"
#include "ingest/window_state.h"
#include "storage/object_store.h"

namespace freshet {

struct WindowDiff {
  std::vector<ObjectInfo> fetch;    // to fetch and Apply, ascending by key
  std::vector<ObjectInfo> removed;  // held objects to drop (the held version), ascending by key
  bool empty() const { return fetch.empty() && removed.empty(); }
};

// How the source changed under an ingested window, as a diff against the
// newest listing shows it. Not errors: the batch ingests the source as it
// is now listed (README "Late and changed objects"), and these are counted.
struct SourceChanges {
  uint64_t late = 0;       // new objects in partitions already committed (at or before the watermark)
  uint64_t rewritten = 0;  // held objects listed again with another ETag or size
  uint64_t vanished = 0;   // held objects no longer listed while their partition is in the window
  std::string first_late;     // the first key of each kind, for the log
  std::string first_changed;
  uint64_t changed() const { return rewritten + vanished; }
};

// The partition a window object's key belongs to, nullopt when the key does
// not parse (such an object is never classified).
using PartitionOfKey = std::function<std::optional<TimePoint>(std::string_view key)>;

// Classifies `diff`, taken between a state reflecting the committed chain
// (watermark `committed_through`, nullopt before any commit) and the plan's
// window starting at `window_start`: objects fetched that are not replacing
// a held version are late when their partition is at or before the
// watermark; held objects dropped without a replacement have vanished when
// their partition is still in the window (else the window slid past them).
SourceChanges ClassifyChanges(const WindowDiff& diff, const PartitionOfKey& partition_of, TimePoint window_start,
                              std::optional<TimePoint> committed_through);

class IngestedWindow {
 public:
  // What `window` (the plan's window objects) needs beyond what is held.
  WindowDiff Diff(const std::vector<ObjectInfo>& window) const;

  // Drops diff.removed, then adds each of diff.fetch with its records from
  // `decoded` (DecodeAndParse of exactly diff.fetch: records and quarantine
  // entries carry their object key as `source`). An object without records
  // (empty, ignored or corrupt) is held all the same, so it is not fetched
  // again.
  void Apply(const WindowDiff& diff, DecodedInput decoded);
  // From now on, records are held as ProjectIntoArena(schema) makes them
  // (record_projection.h): the members no document reads are not kept, and
  // an object's texts are one block.
  // The documents made of the state do not change.
  void ProjectRecords(const SchemaOptions& schema);

  // Drops everything (the state is rebuilt from scratch).
  void Clear();

  WindowState& state() { return state_; }
  const WindowState& state() const { return state_; }

  // Every held object, ascending by key.
  std::vector<ObjectInfo> Objects() const;
  // The quarantine of every held object, in key then line order.
  std::vector<QuarantineEntry> Quarantine() const;
  // The window's input as a bad-record check sees it (counts and
  // quarantine, no records): after Apply(diff, fetched) would run, or as
  // held now. max_bad_ratio is judged over the window, as a from-scratch
  // build judges it, not over one batch's few new objects.
  DecodedInput SummaryAfter(const WindowDiff& diff, const DecodedInput& fetched) const;
  DecodedInput Summary() const { return SummaryAfter(WindowDiff{}, DecodedInput{}); }

  // Records (good and bad) and stored bytes over every held object.
  uint64_t records_total() const { return records_total_; }
  uint64_t bytes() const { return bytes_; }

  // The chain segment this state reflects ("" = none: rebuild before use),
  // and the full it is on.
  std::string head;
  std::string base;

 private:
  struct Held {
    ObjectInfo info;
    std::vector<QuarantineEntry> bad;
    uint64_t records_total = 0;
  };
  void Drop(const std::string& key);

  WindowState state_;
  std::optional<BuildSchema> projection_;
  std::map<std::string, Held> held_;
  uint64_t records_total_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace freshet
