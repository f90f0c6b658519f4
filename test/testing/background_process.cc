#include "testing/background_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/temp_dir.h"

extern char** environ;

namespace freshet::testing {
namespace {

ProcessExit FromWaitStatus(int ws) {
  ProcessExit e;
  if (WIFSIGNALED(ws)) {
    e.signaled = true;
    e.signal = WTERMSIG(ws);
  } else {
    e.code = WEXITSTATUS(ws);
  }
  return e;
}

int OpenOutput(const std::string& path) {
  const char* p = path.empty() ? "/dev/null" : path.c_str();
  return ::open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// Between fork and exec: async-signal-safe calls only.
[[noreturn]] void ChildFail(const char* what, const char* arg, int err) {
  auto put = [](const char* s) { (void)!::write(2, s, std::strlen(s)); };
  put("background_process: ");
  put(what);
  put(" ");
  put(arg);
  put(": ");
  put(std::strerror(err));  // glibc's is safe for known errnos
  put("\n");
  ::_exit(127);
}

std::string ReadWhole(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Growing poll interval for waits on another process: 0.2 ms up to 10 ms.
class Backoff {
 public:
  void Pause() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min<std::chrono::microseconds>(pause_ * 2, std::chrono::milliseconds(10));
  }

 private:
  std::chrono::microseconds pause_{200};
};

}  // namespace

std::string ProcessExit::Describe() const {
  if (!signaled) return "exit " + std::to_string(code);
  return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

std::string FindInPath(std::string_view name) {
  if (name.find('/') != std::string_view::npos) return std::string(name);
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) dir = ".";
    std::string candidate = std::string(dir) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !stopped_) Stop();
}

std::string BackgroundProcess::Start(const ProcessOptions& options) {
  if (pid_ > 0) return "already started";
  if (options.argv.empty()) return "empty argv";
  std::string exe = FindInPath(options.argv[0]);
  if (exe.empty()) return options.argv[0] + ": not found in $PATH";

  // Everything the child needs is prepared before fork.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view name = kv.substr(0, kv.find('='));
    bool overridden = std::any_of(options.env.begin(), options.env.end(),
                                  [&](const auto& p) { return p.first == name; });
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_fd = OpenOutput(options.stdout_path);
  if (out_fd < 0) return "open " + options.stdout_path + ": " + std::strerror(errno);
  int err_fd = OpenOutput(options.stderr_path);
  if (err_fd < 0) {
    int e = errno;
    ::close(out_fd);
    return "open " + options.stderr_path + ": " + std::strerror(e);
  }
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) {
    int e = errno;
    ::close(out_fd);
    ::close(err_fd);
    return std::string("open /dev/null: ") + std::strerror(e);
  }

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(out_fd);
    ::close(err_fd);
    ::close(in_fd);
    return std::string("fork: ") + std::strerror(e);
  }
  if (pid == 0) {
    // Die with the parent (crash, SIGKILL, a test runner's timeout) ...
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail("prctl", "PR_SET_PDEATHSIG", errno);
    // ... including when it died before the prctl.
    if (::getppid() != parent) ::_exit(127);
    if (::setpgid(0, 0) != 0) ChildFail("setpgid", "", errno);
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ChildFail("dup2", "", errno);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ChildFail("chdir", options.cwd.c_str(), errno);
    // Default signal dispositions and an empty mask, whatever the test runner set.
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(exe.c_str(), argv.data(), envp.data());
    ChildFail("execve", exe.c_str(), errno);
  }
  // Also from the parent, so the group exists before Start returns (the
  // child may not have run yet); EACCES after its exec is harmless.
  ::setpgid(pid, pid);
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  pid_ = pid;
  stdout_path_ = options.stdout_path;
  stderr_path_ = options.stderr_path;
  return "";
}

bool BackgroundProcess::running() {
  if (pid_ <= 0 || exit_) return false;
  int ws = 0;
  pid_t r = ::waitpid(pid_, &ws, WNOHANG);
  if (r == pid_) {
    exit_ = FromWaitStatus(ws);
    return false;
  }
  return r == 0;
}

bool BackgroundProcess::GroupAlive() const {
  if (pid_ <= 0) return false;
  return ::kill(-pid_, 0) == 0 || errno == EPERM;
}

std::optional<std::string> BackgroundProcess::WaitForOutput(std::string_view prefix,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Backoff backoff;
  for (;;) {
    // Read before checking for exit, so a line written just before the end counts.
    bool alive = running();
    std::string out = ReadStdout();
    size_t pos = 0;
    while (pos < out.size()) {
      size_t nl = out.find('\n', pos);
      if (nl == std::string::npos) break;  // only complete lines
      std::string_view line(out.data() + pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.starts_with(prefix)) return std::string(line);
      pos = nl + 1;
    }
    if (!alive || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    backoff.Pause();
  }
}

std::optional<ProcessExit> BackgroundProcess::WaitFor(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Backoff backoff;
  for (;;) {
    if (!running()) return exit_;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    backoff.Pause();
  }
}

ProcessExit BackgroundProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return {};
  if (stopped_) return *exit_;
  stopped_ = true;
  // The group first: the leader may be gone already while something it
  // started still runs.
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  Backoff backoff;
  while ((running() || GroupAlive()) && std::chrono::steady_clock::now() < deadline) backoff.Pause();
  if (running() || GroupAlive()) ::kill(-pid_, SIGKILL);
  if (!exit_) {
    int ws = 0;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
    exit_ = FromWaitStatus(ws);
  }
  // Members outside our reach as parent (grandchildren) are reaped by init
  // once killed; wait briefly so GroupAlive() is meaningful afterwards.
  const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (GroupAlive() && std::chrono::steady_clock::now() < reap_deadline) backoff.Pause();
  return *exit_;
}

std::string BackgroundProcess::ReadStdout() const { return ReadWhole(stdout_path_); }
std::string BackgroundProcess::ReadStderr() const { return ReadWhole(stderr_path_); }

std::string CommandResult::Describe() const {
  if (!start_error.empty()) return "did not start: " + start_error;
  std::string s = (timed_out ? "timed out, " : "") + exit.Describe();
  std::string tail = err.size() > 3000 ? "..." + err.substr(err.size() - 3000) : err;
  if (!tail.empty()) s += "; stderr:\n" + tail;
  return s;
}

CommandResult RunCommand(ProcessOptions options, std::chrono::milliseconds timeout) {
  TempDir dir("command");
  options.stdout_path = dir.Join("stdout");
  options.stderr_path = dir.Join("stderr");
  CommandResult r;
  BackgroundProcess p;
  r.start_error = p.Start(options);
  if (!r.start_error.empty()) return r;
  std::optional<ProcessExit> e = p.WaitFor(timeout);
  if (!e) {
    r.timed_out = true;
    e = p.Stop(std::chrono::seconds(1));
  } else if (p.GroupAlive()) {
    p.Stop(std::chrono::seconds(1));  // leftovers of the command's group
  }
  r.exit = *e;
  r.out = p.ReadStdout();
  r.err = p.ReadStderr();
  return r;
}

}  // namespace freshet::testing
