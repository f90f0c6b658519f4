// Caps the free memory tcmalloc keeps in its per-thread caches (linked into
// the freshet binary only when it links tcmalloc; see CMakeLists.txt).
//
// Why: the daemon runs about 15 threads (the io_context, the compute pool,
// the stores' blocking pools), and tcmalloc lets their caches together hold
// up to 32 MiB of freed objects by default. A steady daemon at 1M ads and a
// 5 h window held 27-29 MiB there between batches: resident memory that
// serves no one while the window waits for the next partition. The
// allocation-heavy work runs on the two or three compute threads, which
// refill from the central lists in batches; 8 MiB serves them.
// FRESHET_THREAD_CACHE_BYTES in the environment overrides the cap (0 keeps
// tcmalloc's default).
#include <cstdlib>
#include <cstring>

#include <gperftools/malloc_extension.h>

namespace {

constexpr size_t kThreadCacheBytes = size_t{8} << 20;

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
    MallocExtension::instance()->SetNumericProperty("tcmalloc.max_total_thread_cache_bytes", bytes);
  }
} cap_thread_caches;

}  // namespace
