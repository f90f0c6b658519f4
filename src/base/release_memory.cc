#include "base/release_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// gperftools' C API, present when the binary links tcmalloc (the daemon
// does: CMakeLists.txt FRESHET_TCMALLOC), absent in tests and tools.
extern "C" void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

namespace freshet {

void ReleaseFreeMemory() {
  if (MallocExtension_ReleaseFreeMemory != nullptr) {
    MallocExtension_ReleaseFreeMemory();
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace freshet
