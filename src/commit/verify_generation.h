// `freshet verify`: rebuild a retained generation from the inputs its
// manifest records and compare the result, byte for byte, with what the
// sink holds (SPEC §3: proves idempotence on real data).
//
// The BuildPlan is reconstructed from the manifest alone: for a delta its
// kind, base, snapshot time and base_inputs (the snapshot it joined against
// for fan-out), window, target, watermark, skipped partitions, inputs and
// warnings; for a full its snapshot time and inputs. The generation is then
// built by the very BuildGenerations the daemon runs. A delta segment that
// extends a chain (it names a predecessor) is rebuilt by replaying the
// chain: the predecessors' manifests (followed through the sink) give the
// window before it, which is read and ingested, and the segment is built
// from there by BuildChainBatch, as the daemon built it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"
#include "storage/object_store.h"

namespace freshet {

struct VerifyReport {
  std::string generation;
  std::string kind;  // "full" or "delta"
  // Keys compared, manifest.json last.
  std::vector<std::string> compared;
  // One line per differing file, naming its key, e.g.
  // "delta/x/stored: stored 1200 bytes xxh64 0123..., rebuilt 1200 bytes xxh64 4567...".
  std::vector<std::string> differences;
  uint64_t inputs = 0;       // input objects read (window + base snapshot)
  uint64_t input_bytes = 0;
  bool identical() const { return differences.empty(); }
};

// Rebuilds `generation` (e.g. "delta/20261122T140500Z-<hex>") from
// `source` and compares it with `sink`. Uses options.schema (its hash must
// equal the manifest's schema_hash); the bad-record limit is not applied,
// since it never shapes the bytes and the generation passed it once.
//
// Errors (as opposed to differences): the manifest missing or malformed
// (kNotFound / kDataLoss); an input gone from the source (kNotFound) or
// changed since the build (kFailedPrecondition, naming the key, its
// recorded and current size and ETag); a schema mismatch
// (kFailedPrecondition); store failures with their own codes.
// REQUIRES: the blocking store helpers may be used on both stores.
//
// Merged segments (a `merged` list): when every member is still in the
// sink, the members are merged again and the bytes compared. When
// retention has deleted them, the segment is checked against a replay of
// its window change instead: every document the replay makes must be in
// the merged segment, identical; extra documents (objects that came and
// left within the merged run) must change nothing a reader sees: a
// tombstone of an id the full does not serve, or the full's very document.
// `live_chain` (CURRENT's chain) resolves a predecessor that a merge
// replaced.
Result<VerifyReport> VerifyGeneration(ObjectStore& sink, ObjectStore& source, const Options& options,
                                      const std::string& generation, const std::vector<std::string>& live_chain = {});

}  // namespace freshet
