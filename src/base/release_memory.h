// Hands freed heap memory back to the operating system.
//
// The allocator (tcmalloc in the daemon, glibc malloc elsewhere) keeps what
// a large transient phase freed (a batch's segment encoding, a merge of big
// segments) in its free lists, so the daemon's resident set would stay at
// its peak for the rest of the run.
// Called once after each such phase, on the compute pool (it walks the
// arenas: a few milliseconds, never on the event loop).
#pragma once

namespace freshet {

void ReleaseFreeMemory();

}  // namespace freshet
