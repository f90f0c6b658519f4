#include "actors/crash_points.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace freshet {
namespace {

std::string g_point;
std::atomic<long> g_remaining{0};

}  // namespace

Status InitCrashPointsFromEnv() {
  const char* v = std::getenv("FRESHET_CRASH_AT");
  if (!v || !*v) return Status::Ok();
  std::string s(v);
  long n = 1;
  if (auto at = s.find('@'); at != std::string::npos) {
    n = std::atol(s.c_str() + at + 1);
    s.resize(at);
    if (n < 1) return Status::InvalidArgument("FRESHET_CRASH_AT: count after '@' must be >= 1");
  }
  for (auto p : kCrashPoints) {
    if (p == s) {
      g_point = s;
      g_remaining = n;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("FRESHET_CRASH_AT: unknown crash point \"" + s + "\"");
}

void CrashPoint(std::string_view point) {
  if (g_point.empty() || point != g_point) return;
  if (g_remaining.fetch_sub(1) == 1) {
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);  // not reached
  }
}

}  // namespace freshet
