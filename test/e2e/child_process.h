// Real child processes for the end-to-end tests: fork/exec with a chosen
// environment, stdout/stderr to files, wait with a deadline, SIGKILL.
//
//   ChildProcess child;
//   std::string err = child.Start({.argv = {bin, "run"}, .env = {{"FRESHET_X", "1"}},
//                                  .stdout_path = dir + "/out", .stderr_path = dir + "/err"});
//   std::optional<ExitStatus> st = child.WaitFor(std::chrono::seconds(60));
//
// The child inherits the parent's environment minus every FRESHET_* variable
// (so a developer's shell cannot change what a test runs), plus `env`.
// Not thread-safe; one owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace freshet::e2e {

struct ProcessSpec {
  std::vector<std::string> argv;                            // argv[0] is the executable path
  std::vector<std::pair<std::string, std::string>> env;     // set in the child (after the filtering); a name given twice: the last wins
  std::string stdout_path;                                  // "" = /dev/null
  std::string stderr_path;                                  // "" = /dev/null
  std::string cwd;                                          // "" = the parent's
};

// How a child ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled

  bool Exited(int want) const { return !signaled && code == want; }
  bool KilledBy(int sig) const { return signaled && signal == sig; }
  std::string Describe() const;  // "exit 3", "killed by signal 9 (Killed)"
};

class ChildProcess {
 public:
  ChildProcess() = default;
  // Kills (SIGKILL) and reaps a child that is still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts the process. Returns "" or what failed (opening the output
  // files, fork, exec — an exec failure shows as exit 127 with the reason on
  // the child's stderr file).
  // REQUIRES: not started yet.
  std::string Start(const ProcessSpec& spec);

  // Waits until the child ends or `timeout` passes (polling waitpid with a
  // short, growing interval). nullopt on timeout; the child keeps running.
  std::optional<ExitStatus> WaitFor(std::chrono::milliseconds timeout);

  // SIGKILL, then reap. Returns how the child ended (it may have exited on
  // its own just before). REQUIRES: started.
  ExitStatus Kill();

  bool running() const { return pid_ > 0 && !status_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Start + WaitFor; on timeout the child is killed and `timed_out` set.
struct RunResult {
  bool started = false;
  bool timed_out = false;
  std::string start_error;
  ExitStatus status;
  std::string out;  // the stdout file's content
  std::string err;  // the stderr file's content
  // One line for assertion messages: status, and the tail of stderr.
  std::string Describe() const;
};
RunResult RunProcess(const ProcessSpec& spec, std::chrono::milliseconds timeout);

// Whole-file read; "" when missing.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace freshet::e2e
