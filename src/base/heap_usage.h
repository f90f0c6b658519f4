// What the heap allocator holds: the bytes the program has allocated and
// the bytes the allocator keeps free for reuse (its free lists and caches),
// both resident unless released. Their sum against the resident set tells
// live data from allocator slack when memory grows.
#pragma once

#include <cstdint>

namespace freshet {

struct HeapUsage {
  bool known = false;          // false: this allocator does not say (all 0)
  uint64_t allocated = 0;      // in use by the program
  uint64_t free_cached = 0;    // freed, kept by the allocator, not released to the system
  // free_cached by the tcmalloc cache that holds it (their sum); under
  // glibc all of it counts as page_heap.
  uint64_t page_heap = 0;      // whole free pages (what ReleaseFreeMemory hands back)
  uint64_t central = 0;        // free objects in partly used spans, by size class
  uint64_t transfer = 0;       // batches of free objects moving between threads
  uint64_t thread = 0;         // the per-thread caches
};

// tcmalloc's figures when the binary links it (the daemon), else glibc's
// (mallinfo2). Cheap: no walk over the heap.
HeapUsage ReadHeapUsage();

}  // namespace freshet
