#include "e2e/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace freshet::e2e {
namespace {

ExitStatus FromWaitStatus(int ws) {
  ExitStatus st;
  if (WIFSIGNALED(ws)) {
    st.signaled = true;
    st.signal = WTERMSIG(ws);
  } else {
    st.code = WEXITSTATUS(ws);
  }
  return st;
}

int OpenOutput(const std::string& path) {
  const char* p = path.empty() ? "/dev/null" : path.c_str();
  return ::open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// Writes a message with async-signal-safe calls only (between fork and exec).
void ChildFail(const char* what, const char* arg) {
  const char* reason = std::strerror(errno);  // not strictly AS-safe, but glibc's is for known errnos
  auto put = [](const char* s) { (void)!::write(2, s, std::strlen(s)); };
  put("child_process: ");
  put(what);
  put(" ");
  put(arg);
  put(": ");
  put(reason);
  put("\n");
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (!signaled) return "exit " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

ChildProcess::~ChildProcess() {
  if (running()) Kill();
}

std::string ChildProcess::Start(const ProcessSpec& spec) {
  if (pid_ > 0) return "already started";
  if (spec.argv.empty()) return "empty argv";

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls until exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("FRESHET_")) continue;
    std::string_view name = kv.substr(0, kv.find('='));
    bool overridden = std::any_of(spec.env.begin(), spec.env.end(),
                                  [&](const auto& p) { return p.first == name; });
    if (!overridden) env_strings.emplace_back(kv);
  }
  // A name given twice: the later entry wins (getenv would find the first).
  for (size_t i = 0; i < spec.env.size(); ++i) {
    const auto& [name, value] = spec.env[i];
    bool later = std::any_of(spec.env.begin() + static_cast<std::ptrdiff_t>(i) + 1, spec.env.end(),
                             [&](const auto& p) { return p.first == name; });
    if (!later) env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_fd = OpenOutput(spec.stdout_path);
  if (out_fd < 0) return "open " + spec.stdout_path + ": " + std::strerror(errno);
  int err_fd = OpenOutput(spec.stderr_path);
  if (err_fd < 0) {
    int e = errno;
    ::close(out_fd);
    return "open " + spec.stderr_path + ": " + std::strerror(e);
  }
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) {
    ::close(out_fd);
    ::close(err_fd);
    return std::string("open /dev/null: ") + std::strerror(errno);
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(out_fd);
    ::close(err_fd);
    ::close(in_fd);
    return std::string("fork: ") + std::strerror(e);
  }
  if (pid == 0) {
    // dup2 clears FD_CLOEXEC on the new descriptors.
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ChildFail("dup2", "");
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ChildFail("chdir", spec.cwd.c_str());
    // Default signal dispositions and an empty mask, whatever the test runner set.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ChildFail("execve", argv[0]);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  pid_ = pid;
  return "";
}

std::optional<ExitStatus> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int ws = 0;
    pid_t r = ::waitpid(pid_, &ws, WNOHANG);
    if (r == pid_) {
      status_ = FromWaitStatus(ws);
      return status_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
  }
}

ExitStatus ChildProcess::Kill() {
  if (status_) return *status_;
  ::kill(pid_, SIGKILL);
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  status_ = FromWaitStatus(ws);
  return *status_;
}

std::string RunResult::Describe() const {
  std::ostringstream os;
  if (!started) {
    os << "did not start: " << start_error;
    return os.str();
  }
  os << (timed_out ? "timed out, " : "") << status.Describe();
  std::string tail = err.size() > 3000 ? "..." + err.substr(err.size() - 3000) : err;
  if (!tail.empty()) os << "; stderr:\n" << tail;
  return os.str();
}

RunResult RunProcess(const ProcessSpec& spec, std::chrono::milliseconds timeout) {
  RunResult r;
  ChildProcess child;
  r.start_error = child.Start(spec);
  r.started = r.start_error.empty();
  if (!r.started) return r;
  std::optional<ExitStatus> st = child.WaitFor(timeout);
  if (!st) {
    r.timed_out = true;
    st = child.Kill();
  }
  r.status = *st;
  if (!spec.stdout_path.empty()) r.out = ReadFileOrEmpty(spec.stdout_path);
  if (!spec.stderr_path.empty()) r.err = ReadFileOrEmpty(spec.stderr_path);
  return r;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace freshet::e2e
