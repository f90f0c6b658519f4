// ReadProcessStats against what this test process does to itself: memory
// it touches, a file it opens, its own start and CPU time.
#include "metrics/process_stats.h"
#include "base/heap_usage.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace freshet {
namespace {

// Under ASan or TSan the sanitizer's allocator replaces the one whose heap
// ReadHeapUsage reads (GCC says so by macro, clang by __has_feature).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

TEST(ProcessStatsTest, ResidentMemoryGrowsWhenABufferIsTouched) {
  const ProcessStats before = ReadProcessStats();
  ASSERT_GT(before.resident_memory_bytes, 0u);
  EXPECT_GE(before.virtual_memory_bytes, before.resident_memory_bytes);
  EXPECT_GE(before.peak_resident_bytes, before.resident_memory_bytes);
  constexpr size_t kSize = 64u << 20;
  std::unique_ptr<char[]> buffer(new char[kSize]);
  std::memset(buffer.get(), 0x5a, kSize);  // every page touched, so resident
  const ProcessStats after = ReadProcessStats();
  EXPECT_GE(after.resident_memory_bytes, before.resident_memory_bytes + kSize / 2)
      << "before " << before.resident_memory_bytes << " after " << after.resident_memory_bytes;
  EXPECT_GE(after.peak_resident_bytes, after.resident_memory_bytes);
  EXPECT_EQ(buffer[kSize - 1], 0x5a);  // keeps the memset
}

TEST(ProcessStatsTest, OpenFdsCountsAFileWeOpen) {
  const uint64_t before = ReadProcessStats().open_fds;
  ASSERT_GT(before, 0u);
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const uint64_t during = ReadProcessStats().open_fds;
  close(fd);
  const uint64_t after = ReadProcessStats().open_fds;
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(after, before);
  EXPECT_GE(ReadProcessStats().max_fds, during);
}

TEST(ProcessStatsTest, StartTimeIsWithinTheLastHour) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const ProcessStats s = ReadProcessStats();
  // btime has one-second resolution: allow a couple of seconds "ahead".
  EXPECT_LE(s.start_time_seconds, now + 2);
  EXPECT_GT(s.start_time_seconds, now - 3600);
}

TEST(ProcessStatsTest, CpuSecondsDoNotGoBackAndThreadsAreCounted) {
  const ProcessStats first = ReadProcessStats();
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 50'000'000; ++i) x = x + i;  // some CPU time
  const ProcessStats second = ReadProcessStats();
  EXPECT_GE(first.cpu_seconds, 0);
  EXPECT_GE(second.cpu_seconds, first.cpu_seconds);
  EXPECT_GT(second.cpu_seconds, 0) << "a test binary that ran a loop used some CPU";
  EXPECT_GE(first.threads, 1u);
}

TEST(ProcessStatsTest, CollectorWritesTheStandardFamilies) {
  MetricsRegistry reg;
  AddProcessCollector(reg);
  const std::string text = reg.RenderPrometheus();
  for (const char* line :
       {"# TYPE process_cpu_seconds_total counter\n", "# TYPE process_max_fds gauge\n",
        "# TYPE process_open_fds gauge\n", "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_start_time_seconds gauge\n", "# TYPE process_threads gauge\n",
        "# TYPE process_virtual_memory_bytes gauge\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin\n" << text;
  }
  EXPECT_EQ(text.find("\nprocess_resident_memory_bytes 0\n"), std::string::npos) << text;
}

TEST(ProcessStatsTest, HeapUsageCountsWhatIsAllocated) {
  const HeapUsage before = ReadHeapUsage();
  if (kSanitized && !before.known) GTEST_SKIP() << "a sanitizer's allocator does not report its heap";
  ASSERT_TRUE(before.known) << "glibc (tests) and tcmalloc (the daemon) both report their heap";
  constexpr size_t kBytes = size_t{64} << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);
  const HeapUsage during = ReadHeapUsage();
  EXPECT_GE(during.allocated, before.allocated + kBytes - (1 << 20));
  block.reset();
  EXPECT_LT(ReadHeapUsage().allocated, during.allocated);

  MetricsRegistry reg;
  AddProcessCollector(reg);
  const std::string text = reg.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE freshet_heap_allocated_bytes gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE freshet_heap_free_cached_bytes gauge\n"), std::string::npos) << text;
  for (const char* cache : {"page_heap", "central", "transfer", "thread"}) {
    EXPECT_NE(text.find(std::string("freshet_heap_free_cached_bytes{cache=\"") + cache + "\"}"), std::string::npos)
        << cache << "\n" << text;
  }
  const HeapUsage after = ReadHeapUsage();
  EXPECT_EQ(after.free_cached, after.page_heap + after.central + after.transfer + after.thread);
}

}  // namespace
}  // namespace freshet
