// Marks the phases that allocate hundreds of MB of long-lived small objects
// at once: a restart re-ingesting its window, a full build parsing its
// snapshot.
//
// The daemon binary's allocator hook (src/cli/tcmalloc/huge_pages.cc) backs
// the heap it grows during such a phase with transparent huge pages (fewer
// page faults and TLB misses: a restart's first batch at a 5 h window went
// from 2.6 s to 1.5 s), and when the last phase ends marks those regions
// MADV_NOHUGEPAGE: their huge pages stay, but memory the allocator releases
// and reuses there later (each batch's scratch) is faulted back in 4 KiB
// pages, not 2 MiB ones (steady batches were 100-250 ms slower otherwise).
// Without the hook (tests, sanitizer builds, glibc malloc) a scope only
// counts.
//
// Thread-safety: scopes may open and close on any thread, and nest.
#pragma once

namespace freshet {

class BulkAllocationScope {
 public:
  BulkAllocationScope();
  ~BulkAllocationScope();
  BulkAllocationScope(const BulkAllocationScope&) = delete;
  BulkAllocationScope& operator=(const BulkAllocationScope&) = delete;
};

// True while any scope is open.
bool InBulkAllocation();

// `begin` is called (on the thread opening it) when the first scope opens,
// `end` (on the thread closing it) when the last open scope closes; either
// may be nullptr. Up to four pairs, added before any scope opens (the
// allocator hooks add theirs before main). Scopes opening and closing at
// once on different threads may run one's begin before the other's end;
// the daemon opens them on the Builder's strand, one at a time.
void AddBulkAllocationHooks(void (*begin)(), void (*end)());
// Removes every hook (tests).
void ClearBulkAllocationHooks();

}  // namespace freshet
