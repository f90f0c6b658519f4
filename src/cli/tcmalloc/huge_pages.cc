// Backs the heap tcmalloc grows during bulk ingest with transparent huge
// pages (linked into the freshet binary only when it links tcmalloc; see
// CMakeLists.txt and base/bulk_allocation.h).
//
// Why: a restart re-ingests the whole window and a full build parses its
// snapshot, hundreds of MB of long-lived small objects at once. On 4 KiB
// pages every first touch is a page fault and the hash tables over them
// miss the TLB; on the VMs freshet runs on both are expensive (a
// restart's first batch at a 5 h window, 1M ads: 2.6 s on 4 KiB pages,
// 1.5 s on huge pages). Prefaulting 4 KiB pages (MADV_POPULATE_WRITE) won
// little: the TLB is the larger part.
//
// Why only then: memory tcmalloc releases and later reuses inside a huge
// page region faults back in 2 MiB at a time, and steady one-partition
// batches (which release their scratch after each build) were 100-250 ms
// slower with every region huge. So regions are mapped huge only while a
// BulkAllocationScope is open, and marked MADV_NOHUGEPAGE when the last
// one closes: the huge pages they hold stay, what is released there comes
// back in 4 KiB pages. Outside bulk phases the default allocator serves.
//
// The kernel's transparent_hugepage setting must be "madvise" (Debian's
// default) or "always"; with "never" nothing changes. FRESHET_HUGE_PAGES=0
// in the environment turns it off (for example where the THP defrag
// setting makes faults stall on compaction).
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <gperftools/malloc_extension.h>

#include "base/bulk_allocation.h"

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMaxRegions = 8192;  // 16 GiB at the smallest region

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

class BulkHugePageAllocator final : public SysAllocator {
 public:
  explicit BulkHugePageAllocator(SysAllocator* fallback) : fallback_(fallback) {}

  // Called by tcmalloc with its page heap locked: no allocation here.
  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    if (!freshet::InBulkAllocation()) return fallback_->Alloc(size, actual_size, alignment);
    std::lock_guard<std::mutex> lock(mu_);
    if (regions_ == kMaxRegions) return fallback_->Alloc(size, actual_size, alignment);
    const size_t align = alignment > kHugePage ? alignment : kHugePage;
    const size_t len = RoundUp(size, kHugePage);
    void* raw = ::mmap(nullptr, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return fallback_->Alloc(size, actual_size, alignment);
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t start = RoundUp(base, align);
    if (start > base) ::munmap(raw, start - base);
    const uintptr_t end = base + len + align;
    if (end > start + len) ::munmap(reinterpret_cast<void*>(start + len), end - (start + len));
    ::madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice: failure is harmless
    region_start_[regions_] = start;
    region_len_[regions_] = len;
    ++regions_;
    if (actual_size != nullptr) *actual_size = len;
    return reinterpret_cast<void*>(start);
  }

  // The last bulk phase ended: from now on what is released in the huge
  // regions comes back in 4 KiB pages (their current huge pages stay).
  void EndBulk() {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < regions_; ++i) {
      ::madvise(reinterpret_cast<void*>(region_start_[i]), region_len_[i], MADV_NOHUGEPAGE);
    }
    regions_ = 0;
  }

 private:
  SysAllocator* const fallback_;
  std::mutex mu_;
  size_t regions_ = 0;  // guarded by mu_, as the arrays
  uintptr_t region_start_[kMaxRegions] = {};
  size_t region_len_[kMaxRegions] = {};
};

BulkHugePageAllocator* g_allocator = nullptr;

// Installed before main(), as MallocExtension asks, unless turned off.
struct Install {
  Install() {
    const char* env = std::getenv("FRESHET_HUGE_PAGES");
    if (env != nullptr && std::strcmp(env, "0") == 0) return;
    MallocExtension* ext = MallocExtension::instance();
    static BulkHugePageAllocator allocator(ext->GetSystemAllocator());
    g_allocator = &allocator;
    ext->SetSystemAllocator(&allocator);
    freshet::AddBulkAllocationHooks(nullptr, [] { g_allocator->EndBulk(); });
  }
} install;

}  // namespace
