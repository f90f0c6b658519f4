#include "base/heap_usage.h"

#include <cstddef>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// gperftools' C API, present when the binary links tcmalloc (see
// release_memory.cc).
extern "C" int MallocExtension_GetNumericProperty(const char* property, size_t* value) __attribute__((weak));

namespace freshet {

HeapUsage ReadHeapUsage() {
  HeapUsage u;
  if (MallocExtension_GetNumericProperty != nullptr) {
    size_t allocated = 0;
    if (!MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &allocated)) return u;
    u.known = true;
    u.allocated = allocated;
    const std::pair<const char*, uint64_t*> caches[] = {{"tcmalloc.pageheap_free_bytes", &u.page_heap},
                                                        {"tcmalloc.central_cache_free_bytes", &u.central},
                                                        {"tcmalloc.transfer_cache_free_bytes", &u.transfer},
                                                        {"tcmalloc.thread_cache_free_bytes", &u.thread}};
    for (const auto& [property, field] : caches) {
      size_t bytes = 0;
      if (MallocExtension_GetNumericProperty(property, &bytes)) *field = bytes;
      u.free_cached += *field;
    }
    return u;
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 mi = mallinfo2();
  // A sanitizer's allocator answers mallinfo2 with zeros; glibc's own
  // never does (its main arena exists before main()).
  u.known = mi.arena != 0 || mi.hblkhd != 0 || mi.uordblks != 0;
  u.allocated = mi.uordblks + mi.hblkhd;
  u.free_cached = mi.fordblks;
  u.page_heap = mi.fordblks;
#endif
  return u;
}

}  // namespace freshet
