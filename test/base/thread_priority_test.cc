#include "base/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

namespace freshet {
namespace {

// The calling thread's nice value changes, and only that thread's.
TEST(ThreadPriorityTest, LowersOnlyTheCallingThread) {
  const int before = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  int in_thread = -100;
  std::thread t([&in_thread] {
    ASSERT_TRUE(LowerThisThreadPriority(19).ok());
    in_thread = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  });
  t.join();
  EXPECT_EQ(in_thread, 19);
  EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))), before);
}

}  // namespace
}  // namespace freshet
