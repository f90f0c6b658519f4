#include "base/thread_priority.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "base/posix_error.h"

namespace freshet {

Status LowerThisThreadPriority(int niceness) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, niceness) != 0) {
    return PosixError("setpriority(thread " + std::to_string(tid) + ", " + std::to_string(niceness) + ")", errno);
  }
  return Status::Ok();
}

}  // namespace freshet
