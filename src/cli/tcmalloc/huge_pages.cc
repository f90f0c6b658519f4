// Backs tcmalloc's heap with transparent huge pages (linked into the
// freshet binary only when it links tcmalloc; see CMakeLists.txt).
//
// Why: ingest allocates hundreds of MB of small objects at once (a
// restart re-ingests the whole window; a full build parses the snapshot).
// On 4 KiB pages every first touch is a page fault, and on the VMs freshet
// runs on a fault costs microseconds: a quarter of a restart's CPU went
// to faults and to tcmalloc filling fresh spans. Regions handed out 2 MiB
// aligned and marked MADV_HUGEPAGE fault once per 2 MiB where the kernel
// has huge pages to give (transparent_hugepage "madvise" or "always";
// with "never" nothing changes).
//
// FRESHET_HUGE_PAGES=0 in the environment turns it off (for example where
// the kernel's THP defrag setting makes faults stall on compaction).
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <gperftools/malloc_extension.h>

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

class HugePageSysAllocator final : public SysAllocator {
 public:
  explicit HugePageSysAllocator(SysAllocator* fallback) : fallback_(fallback) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    const size_t align = alignment > kHugePage ? alignment : kHugePage;
    const size_t len = RoundUp(size, kHugePage);
    void* raw = ::mmap(nullptr, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return fallback_ != nullptr ? fallback_->Alloc(size, actual_size, alignment) : nullptr;
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t start = RoundUp(base, align);
    if (start > base) ::munmap(raw, start - base);
    const uintptr_t end = base + len + align;
    if (end > start + len) ::munmap(reinterpret_cast<void*>(start + len), end - (start + len));
    ::madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice: failure is harmless
    if (actual_size != nullptr) *actual_size = len;
    return reinterpret_cast<void*>(start);
  }

 private:
  SysAllocator* const fallback_;
};

// Installed before main(), as MallocExtension asks, unless turned off.
struct Install {
  Install() {
    const char* env = std::getenv("FRESHET_HUGE_PAGES");
    if (env != nullptr && std::strcmp(env, "0") == 0) return;
    MallocExtension* ext = MallocExtension::instance();
    static HugePageSysAllocator allocator(ext->GetSystemAllocator());
    ext->SetSystemAllocator(&allocator);
  }
} install;

}  // namespace
