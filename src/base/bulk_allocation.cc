#include "base/bulk_allocation.h"

#include <atomic>

namespace freshet {
namespace {

constexpr int kMaxHooks = 4;
std::atomic<int> g_open{0};
std::atomic<int> g_hooks{0};
std::atomic<void (*)()> g_begin[kMaxHooks] = {};
std::atomic<void (*)()> g_end[kMaxHooks] = {};

void RunHooks(std::atomic<void (*)()>* hooks) {
  const int n = g_hooks.load(std::memory_order_acquire);
  for (int i = 0; i < n && i < kMaxHooks; ++i) {
    if (void (*hook)() = hooks[i].load(std::memory_order_acquire)) hook();
  }
}

}  // namespace

BulkAllocationScope::BulkAllocationScope() {
  if (g_open.fetch_add(1, std::memory_order_acq_rel) == 0) RunHooks(g_begin);
}

BulkAllocationScope::~BulkAllocationScope() {
  if (g_open.fetch_sub(1, std::memory_order_acq_rel) == 1) RunHooks(g_end);
}

bool InBulkAllocation() { return g_open.load(std::memory_order_acquire) > 0; }

void AddBulkAllocationHooks(void (*begin)(), void (*end)()) {
  const int i = g_hooks.load(std::memory_order_acquire);
  if (i >= kMaxHooks) return;
  g_begin[i].store(begin, std::memory_order_release);
  g_end[i].store(end, std::memory_order_release);
  g_hooks.store(i + 1, std::memory_order_release);
}

void ClearBulkAllocationHooks() {
  g_hooks.store(0, std::memory_order_release);
  for (int i = 0; i < kMaxHooks; ++i) {
    g_begin[i].store(nullptr, std::memory_order_release);
    g_end[i].store(nullptr, std::memory_order_release);
  }
}

}  // namespace freshet
