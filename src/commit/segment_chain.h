// A delta chain's manifests read as one history (SPEC §3): whether the
// segments link up, and which window objects the newest one reflects.
//
// Linkage: the first segment starts the chain (no predecessor) and each
// later one names the segment before it as its predecessor, or the last
// segment that one merged (a merge replaces a run in place; the segment
// after the run still names the run's last member). Every segment shadows
// the same full (`base`).
//
// The window after a segment: a chain start's inputs; otherwise the
// predecessor's window minus `removed` plus `inputs` (same key: the newer
// ETag replaces).
//
// Pure and synchronous: the Builder folds a chain when it rebuilds its
// window state at a restart, and `verify` when it rebuilds a chain.
#pragma once

#include <string>
#include <vector>

#include "freshet/status.h"
#include "index/manifest.h"
#include "storage/object_store.h"

namespace freshet {

// kDataLoss naming the segment when a segment does not link to the one
// before it, is not a delta, or shadows another full than `base`.
Status CheckChainLinks(const std::vector<Manifest>& chain, const std::string& base);

// The window objects the last segment of `chain` (oldest first) reflects,
// ascending by key. CheckChainLinks first.
Result<std::vector<ObjectInfo>> ChainWindow(const std::vector<Manifest>& chain, const std::string& base);

// The window after applying one segment's inputs / removed to `before`
// (ascending by key); a chain start's window is its inputs.
std::vector<ObjectInfo> NextWindow(const std::vector<ObjectInfo>& before, const Manifest& segment);

// The net change from window `before` to window `after` (both ascending by
// key), as a merged segment records it: `inputs` the objects of `after`
// not in `before` identically, `removed` those of `before` not in `after`
// identically.
void NetChange(const std::vector<ObjectInfo>& before, const std::vector<ObjectInfo>& after,
               std::vector<ManifestInput>* inputs, std::vector<ManifestInput>* removed);

}  // namespace freshet
