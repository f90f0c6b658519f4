#include "e2e/freshet_cli.h"

#include <cstdlib>
#include <filesystem>

namespace freshet::e2e {

std::string FreshetBinary() {
  const char* bin = std::getenv("FRESHET_BIN");
  return bin == nullptr ? "" : bin;
}

FreshetCli::FreshetCli(std::string work_dir) : work_dir_(std::move(work_dir)) {
  std::filesystem::create_directories(work_dir_ + "/logs");
}

ProcessSpec FreshetCli::Spec(const std::vector<std::string>& args, const EnvVars& env) {
  ProcessSpec spec;
  spec.argv.push_back(FreshetBinary());
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = base_env_;  // later entries win (see ProcessSpec)
  spec.env.insert(spec.env.end(), env.begin(), env.end());
  std::string base = work_dir_ + "/logs/" + std::to_string(++runs_) + "-" + (args.empty() ? "none" : args[0]);
  spec.stdout_path = base + ".out";
  spec.stderr_path = base + ".err";
  spec.cwd = work_dir_;
  return spec;
}

RunResult FreshetCli::Run(const std::vector<std::string>& args, const EnvVars& env,
                          std::chrono::milliseconds timeout) {
  return RunProcess(Spec(args, env), timeout);
}

::testing::AssertionResult FreshetCli::Gen(const std::string& out_dir, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"gen", "--out", out_dir};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = Run(full);
  if (!r.status.Exited(0) || r.timed_out) return ::testing::AssertionFailure() << "freshet gen: " << r.Describe();
  return ::testing::AssertionSuccess();
}

EnvVars FreshetCli::DaemonEnv(const std::string& source_dir, const std::string& sink_dir, const EnvVars& extra) {
  EnvVars env = {
      {"FRESHET_SOURCE_URI", "local://" + source_dir},
      {"FRESHET_SINK_URI", "local://" + sink_dir},
      {"FRESHET_ADMIN_LISTEN", ""},
  };
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<std::string> FreshetCli::RunArgs(const std::string& trigger, const std::string& config) {
  std::vector<std::string> args = {"run", "--trigger", trigger};
  if (!config.empty()) {
    args.push_back("--config");
    args.push_back(config);
  }
  return args;
}

RunResult FreshetCli::RunDaemon(const std::string& source_dir, const std::string& sink_dir, const EnvVars& extra,
                                const std::string& trigger, const std::string& config) {
  return Run(RunArgs(trigger, config), DaemonEnv(source_dir, sink_dir, extra));
}

::testing::AssertionResult FreshetCli::Query(const std::string& sink_dir, const std::vector<std::string>& clauses,
                                             bool any, std::vector<std::string>* ids) {
  std::vector<std::string> args = {"query", "--sink",
                                   sink_dir.find("://") != std::string::npos ? sink_dir : "local://" + sink_dir};
  if (any) args.push_back("--any");
  args.push_back("--");  // a clause may start with '-'
  args.insert(args.end(), clauses.begin(), clauses.end());
  RunResult r = Run(args, {}, std::chrono::seconds(60));
  if (!r.status.Exited(0) || r.timed_out) return ::testing::AssertionFailure() << "freshet query: " << r.Describe();
  ids->clear();
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    ids->push_back(r.out.substr(start, end - start));
    start = end + 1;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace freshet::e2e
