#include "base/bulk_allocation.h"

#include <atomic>

namespace freshet {
namespace {

std::atomic<int> g_open{0};
std::atomic<void (*)()> g_end_hook{nullptr};

}  // namespace

BulkAllocationScope::BulkAllocationScope() { g_open.fetch_add(1, std::memory_order_acq_rel); }

BulkAllocationScope::~BulkAllocationScope() {
  if (g_open.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (void (*hook)() = g_end_hook.load(std::memory_order_acquire)) hook();
  }
}

bool InBulkAllocation() { return g_open.load(std::memory_order_acquire) > 0; }

void SetBulkAllocationEndHook(void (*hook)()) { g_end_hook.store(hook, std::memory_order_release); }

}  // namespace freshet
