// Helper processes for tests (the Node S3 servers, the fault proxy, npm):
// fork/exec into a process group of their own, so stopping kills the whole
// group, and with PR_SET_PDEATHSIG so they die with the test binary even
// when it crashes or is killed.
//
//   BackgroundProcess server;
//   std::string err = server.Start({.argv = {"node", "server.js"}, .stdout_path = dir.Join("out")});
//   auto line = server.WaitForOutput("listening ", std::chrono::seconds(30));  // "listening 41235"
//   ...
//   server.Stop();  // SIGTERM to the group, SIGKILL after a grace period; reaped
//
// (test/e2e/child_process.h is the e2e suite's own, simpler variant for the
// freshet binary: one process, no group, no death signal.)
//
// Not thread-safe; one owner. PR_SET_PDEATHSIG fires when the *thread* that
// started the child exits, so start long-lived helpers from a thread that
// lives as long as they should (the test's main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet::testing {

struct ProcessOptions {
  // argv[0] is a path, or a bare name looked up in $PATH before forking.
  std::vector<std::string> argv;
  // Set in the child on top of the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdout_path;  // "" = /dev/null
  std::string stderr_path;  // "" = /dev/null
  std::string cwd;          // "" = the parent's
};

// How a process ended.
struct ProcessExit {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled
  bool Ok() const { return !signaled && code == 0; }
  std::string Describe() const;  // "exit 3", "signal 9 (Killed)"
};

class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  // Stop() if still running.
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Starts the process as the leader of a new process group. Returns "" or
  // what failed (an exec failure shows as exit 127, reason on stderr).
  // REQUIRES: not started yet.
  std::string Start(const ProcessOptions& options);

  // Waits until the stdout file has a complete line starting with `prefix`
  // and returns that line (without the newline); nullopt when `timeout`
  // passes or the process ends first. REQUIRES: started with a stdout_path.
  std::optional<std::string> WaitForOutput(std::string_view prefix, std::chrono::milliseconds timeout);

  // Waits for the process to end by itself; nullopt on timeout.
  std::optional<ProcessExit> WaitFor(std::chrono::milliseconds timeout);

  // SIGTERM to the whole group; after `grace`, SIGKILL to the group. Reaps
  // the leader and returns how it ended. Idempotent.
  ProcessExit Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // True while the leader has not been reaped (a zombie counts as ended).
  bool running();
  pid_t pid() const { return pid_; }  // also the process group id
  // True when some process of the group is still alive (after Stop: a
  // stray grandchild).
  bool GroupAlive() const;
  // What the process wrote so far ("" without a path).
  std::string ReadStdout() const;
  std::string ReadStderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<ProcessExit> exit_;
  bool stopped_ = false;  // Stop() ran: never signal the (possibly reused) pid again
  std::string stdout_path_, stderr_path_;
};

// Runs a command to completion with stdout and stderr captured in memory
// (through files in a temporary directory).
struct CommandResult {
  std::string start_error;  // "" when it started
  bool timed_out = false;   // killed after the timeout
  ProcessExit exit;
  std::string out, err;
  bool Ok() const { return start_error.empty() && !timed_out && exit.Ok(); }
  // For assertion messages: how it ended and the tail of stderr.
  std::string Describe() const;
};
CommandResult RunCommand(ProcessOptions options, std::chrono::milliseconds timeout);

// The absolute path of `name` in $PATH ("" when not found). A name with a
// '/' is returned as is.
std::string FindInPath(std::string_view name);

}  // namespace freshet::testing
