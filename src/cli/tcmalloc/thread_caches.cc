// Caps the free memory tcmalloc keeps in its per-thread caches between bulk
// phases (linked into the freshet binary only when it links tcmalloc; see
// CMakeLists.txt).
//
// Why: the daemon runs about 15 threads (the io_context, the compute pool,
// the stores' blocking pools), and tcmalloc lets their caches together hold
// up to 32 MiB of freed objects by default. A steady daemon at 1M ads and a
// 5 h window held 27-29 MiB there between batches: resident memory that
// serves no one while the window waits for the next partition. Delta
// batches refill from the central lists in batches; 8 MiB serves them.
// Bulk phases (a full build, a restart's re-ingest: base/bulk_allocation.h)
// allocate and free millions of small objects on every compute thread, and
// get tcmalloc's default back while they run.
// FRESHET_THREAD_CACHE_BYTES in the environment overrides the steady cap
// (0 keeps tcmalloc's default throughout).
#include <cstdlib>
#include <cstring>

#include <gperftools/malloc_extension.h>

#include "base/bulk_allocation.h"

namespace {

constexpr size_t kThreadCacheBytes = size_t{8} << 20;
size_t g_bulk_bytes = 0;    // tcmalloc's setting at start-up
size_t g_steady_bytes = 0;  // the cap between bulk phases

void SetThreadCacheBytes(size_t bytes) {
  MallocExtension::instance()->SetNumericProperty("tcmalloc.max_total_thread_cache_bytes", bytes);
}

struct CapThreadCaches {
  CapThreadCaches() {
    size_t bytes = kThreadCacheBytes;
    if (const char* env = std::getenv("FRESHET_THREAD_CACHE_BYTES"); env != nullptr && *env != '\0') {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(env, &end, 10);
      if (end == nullptr || *end != '\0') return;  // not a number: leave tcmalloc's default
      if (v == 0) return;
      bytes = static_cast<size_t>(v);
    }
    if (!MallocExtension::instance()->GetNumericProperty("tcmalloc.max_total_thread_cache_bytes", &g_bulk_bytes) ||
        g_bulk_bytes <= bytes) {
      g_bulk_bytes = bytes;
    }
    g_steady_bytes = bytes;
    SetThreadCacheBytes(g_steady_bytes);
    freshet::AddBulkAllocationHooks([] { SetThreadCacheBytes(g_bulk_bytes); },
                                    [] { SetThreadCacheBytes(g_steady_bytes); });
  }
} cap_thread_caches;

}  // namespace
