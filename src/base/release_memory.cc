#include "base/release_memory.h"

#include <cstddef>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// gperftools' C API, present when the binary links tcmalloc (the daemon
// does: CMakeLists.txt FRESHET_TCMALLOC), absent in tests and tools.
extern "C" void MallocExtension_ReleaseToSystem(size_t num_bytes) __attribute__((weak));
extern "C" int MallocExtension_GetNumericProperty(const char* property, size_t* value) __attribute__((weak));

namespace freshet {
namespace {

// tcmalloc releases under its page heap lock, which every thread that
// needs a new span waits for. Released in one call, the free memory a big
// merge leaves (GBs) held it long enough to stall a batch building beside
// it for a second; in steps of this size the lock is free between steps.
constexpr size_t kReleaseStep = size_t{32} << 20;
constexpr int kMaxSteps = 1024;  // 32 GiB: a bound, not a target

}  // namespace

void ReleaseFreeMemory(size_t keep_bytes) {
  if (MallocExtension_ReleaseToSystem != nullptr && MallocExtension_GetNumericProperty != nullptr) {
    for (int i = 0; i < kMaxSteps; ++i) {
      size_t free_bytes = 0;
      if (!MallocExtension_GetNumericProperty("tcmalloc.pageheap_free_bytes", &free_bytes) || free_bytes <= keep_bytes) {
        return;
      }
      const size_t excess = free_bytes - keep_bytes;
      MallocExtension_ReleaseToSystem(excess < kReleaseStep ? excess : kReleaseStep);
    }
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace freshet
