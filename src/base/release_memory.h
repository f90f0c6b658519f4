// Hands freed heap memory back to the operating system.
//
// The allocator (tcmalloc in the daemon, glibc malloc elsewhere) keeps what
// a large transient phase freed (a batch's segment encoding, a merge of big
// segments) in its free lists, so the daemon's resident set would stay at
// its peak for the rest of the run.
// Called once after each such phase, on the compute pool (it walks the
// arenas: a few milliseconds, never on the event loop).
#pragma once

#include <utility>

namespace freshet {

void ReleaseFreeMemory();

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
