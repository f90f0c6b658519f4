// ProcessStats from /proc (Linux). Every reader tolerates a missing file or
// an unexpected layout by leaving its fields 0.
#include "metrics/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/heap_usage.h"

namespace freshet {
namespace {

// The "Name:  <number> [kB]" lines of /proc/self/status, in bytes when
// given in kB.
void ReadStatus(ProcessStats& s) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string_view key(line.data(), colon);
    uint64_t* field = key == "VmRSS"     ? &s.resident_memory_bytes
                      : key == "VmSize"  ? &s.virtual_memory_bytes
                      : key == "VmHWM"   ? &s.peak_resident_bytes
                      : key == "Threads" ? &s.threads
                                         : nullptr;
    if (!field) continue;
    std::istringstream rest(line.substr(colon + 1));
    uint64_t n = 0;
    std::string unit;
    if (!(rest >> n)) continue;
    rest >> unit;
    *field = unit == "kB" ? n * 1024 : n;
  }
}

// "btime <unix seconds>" from /proc/stat: when the system booted.
uint64_t BootTime() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("btime ")) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// utime, stime (fields 14, 15) and starttime (field 22) of
// /proc/self/stat, in clock ticks. The command name (field 2) is in
// parentheses and may hold spaces or ')', so fields count from the last ')'.
void ReadStat(ProcessStats& s) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return;
  std::istringstream rest(text.substr(paren + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 20) return;
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return;
  const double utime = std::strtod(fields[11].c_str(), nullptr);
  const double stime = std::strtod(fields[12].c_str(), nullptr);
  s.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
  const uint64_t boot = BootTime();
  if (boot != 0)
    s.start_time_seconds = static_cast<double>(boot) + std::strtod(fields[19].c_str(), nullptr) / static_cast<double>(ticks);
}

// Entries of /proc/self/fd, not counting the one the listing itself holds.
uint64_t OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  const int own = dirfd(dir);
  uint64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == own) continue;
    ++n;
  }
  closedir(dir);
  return n;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  ReadStatus(s);
  ReadStat(s);
  s.open_fds = OpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = limit.rlim_cur;
  return s;
}

void AddProcessCollector(MetricsRegistry& registry) {
  registry.AddCollector([](MetricsWriter& w) {
    const ProcessStats s = ReadProcessStats();
    auto d = [](uint64_t v) { return static_cast<double>(v); };
    w.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {}, s.cpu_seconds);
    w.Gauge("process_max_fds", "Maximum number of open file descriptors.", {}, d(s.max_fds));
    w.Gauge("process_open_fds", "Number of open file descriptors.", {}, d(s.open_fds));
    w.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, d(s.resident_memory_bytes));
    w.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", {},
            s.start_time_seconds);
    w.Gauge("process_threads", "Number of OS threads in the process.", {}, d(s.threads));
    w.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, d(s.virtual_memory_bytes));
    if (const HeapUsage heap = ReadHeapUsage(); heap.known) {
      w.Gauge("freshet_heap_allocated_bytes", "Heap bytes in use (the allocator's count).", {}, d(heap.allocated));
      const std::pair<const char*, uint64_t> caches[] = {
          {"page_heap", heap.page_heap}, {"central", heap.central}, {"transfer", heap.transfer}, {"thread", heap.thread}};
      for (const auto& [cache, bytes] : caches) {
        w.Gauge("freshet_heap_free_cached_bytes",
                "Heap bytes freed but kept by the allocator for reuse, not released to the system, by the "
                "allocator's cache that holds them.",
                {{"cache", cache}}, d(bytes));
      }
    }
  });
}

}  // namespace freshet
