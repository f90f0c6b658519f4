// What the heap allocator holds: the bytes the program has allocated and
// the bytes the allocator keeps free for reuse (its free lists and caches),
// both resident unless released. Their sum against the resident set tells
// live data from allocator slack when memory grows.
#pragma once

#include <cstdint>

namespace freshet {

struct HeapUsage {
  bool known = false;          // false: this allocator does not say (both 0)
  uint64_t allocated = 0;      // in use by the program
  uint64_t free_cached = 0;    // freed, kept by the allocator, not released to the system
};

// tcmalloc's figures when the binary links it (the daemon), else glibc's
// (mallinfo2). Cheap: no walk over the heap.
HeapUsage ReadHeapUsage();

}  // namespace freshet
