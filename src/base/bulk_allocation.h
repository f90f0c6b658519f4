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

// Called (on the thread closing it) when the last open scope closes.
// Set once, before any scope opens (the hook does it before main).
void SetBulkAllocationEndHook(void (*hook)());

}  // namespace freshet
