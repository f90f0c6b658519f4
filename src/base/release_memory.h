// Hands freed heap memory back to the operating system.
//
// The allocator (tcmalloc in the daemon, glibc malloc elsewhere) keeps what
// a large transient phase freed (a batch's segment encoding, a merge of big
// segments) in its free lists, so the daemon's resident set would stay at
// its peak for the rest of the run.
// Called once after each such phase, on the compute pool (it walks the
// arenas: a few milliseconds, never on the event loop).
#pragma once

#include <cstddef>
#include <utility>

namespace freshet {

// Releases the allocator's free pages down to `keep_bytes` (tcmalloc's page
// heap; glibc's malloc_trim keeps none). Keeping some spares the next phase
// of the same kind the page faults of taking it back: a delta batch's
// transient memory, released after every batch, cost the next one 7,000-
// 15,000 page faults and a third of its build in the kernel and tcmalloc's
// span set-up (perf on the 1M-ad benchmark).
void ReleaseFreeMemory(size_t keep_bytes = 0);

// Empties `c` and frees its buffer. Not `c = {}`: for a vector or a
// string that assigns from an empty initializer_list, which destroys the
// elements but keeps the capacity. (Parsed chunks emptied so kept every
// chunk's record array until the whole snapshot was parsed: 960 MB at 5M
// documents.)
template <typename Container>
void FreeBuffer(Container& c) {
  Container().swap(c);
}

}  // namespace freshet
