// The process's own resource figures, read from /proc/self (Linux), for
// the standard process_* metrics (names as the Prometheus client libraries
// use them) and /status.
#pragma once

#include <cstdint>
#include <optional>

#include "metrics/metrics.h"

namespace freshet {

struct ProcessStats {
  uint64_t resident_memory_bytes = 0;  // VmRSS
  uint64_t virtual_memory_bytes = 0;   // VmSize
  uint64_t peak_resident_bytes = 0;    // VmHWM
  uint64_t open_fds = 0;               // entries in /proc/self/fd
  uint64_t max_fds = 0;                // RLIMIT_NOFILE soft limit
  double cpu_seconds = 0;              // user + system
  double start_time_seconds = 0;       // Unix time the process started
  uint64_t threads = 0;
};

// Fields it cannot read stay 0 (never fails: metrics must always render).
ProcessStats ReadProcessStats();

// Registers a collector writing process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_cpu_seconds_total, process_start_time_seconds and
// process_threads (the client libraries' names and meanings).
void AddProcessCollector(MetricsRegistry& registry);

}  // namespace freshet
