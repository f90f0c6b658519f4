// conf/freshet.service: systemd itself checks it (systemd-analyze verify,
// and the offline security review for its exposure score), and the keys
// the daemon's design relies on are asserted one by one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/options.h"
#include "freshet/time.h"
#include "testing/background_process.h"
#include "testing/temp_dir.h"
#include "testing/files.h"

namespace freshet {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kShippedExecStart = "/usr/local/bin/freshet run --config /etc/freshet/freshet.json";

std::string UnitPath() {
  const char* src = std::getenv("FRESHET_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/conf/freshet.service";
}

using testing::ReadFile;

void WriteFile(const std::string& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << body;
  ASSERT_TRUE(out.good()) << path;
}

// A unit file as "Section.Key" -> values in order (systemd keys may
// repeat), plus the commented-out assignments ("#Key=value") separately.
// Good enough for our own file: no line continuations, no quoting rules.
struct UnitFile {
  std::map<std::string, std::vector<std::string>> keys;
  std::map<std::string, std::vector<std::string>> commented;
  std::string comments;  // all comment text, for the documentation checks

  // The one value of `key`; "" plus a test failure when it is absent or repeats.
  std::string One(const std::string& key) const {
    auto it = keys.find(key);
    if (it == keys.end()) {
      ADD_FAILURE() << key << " is missing";
      return "";
    }
    EXPECT_EQ(it->second.size(), 1u) << key << " repeats";
    return it->second.front();
  }
};

UnitFile ParseUnit(const std::string& text) {
  UnitFile u;
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#' || line[0] == ';') {
      u.comments += line.substr(1);
      u.comments += '\n';
      // "#Key=value" with no space: a setting shown commented out.
      size_t eq = line.find('=');
      if (line.size() > 1 && std::isupper(static_cast<unsigned char>(line[1])) && eq != std::string::npos &&
          line.find(' ') > eq) {
        u.commented[section + "." + line.substr(1, eq - 1)].push_back(line.substr(eq + 1));
      }
      continue;
    }
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    size_t eq = line.find('=');
    EXPECT_NE(eq, std::string::npos) << "not an assignment: " << line;
    if (eq == std::string::npos) continue;
    u.keys[section + "." + line.substr(0, eq)].push_back(line.substr(eq + 1));
  }
  return u;
}

// Lines of `output` that mention `name` (systemd-analyze may also print
// warnings about the host, e.g. other units or a missing /run/systemd).
std::vector<std::string> LinesMentioning(const std::string& output, const std::string& name) {
  std::vector<std::string> hits;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.find(name) != std::string::npos) hits.push_back(line);
  }
  return hits;
}

std::string SystemdAnalyze() {
  std::string path = testing::FindInPath("systemd-analyze");
  if (path.empty()) {
    ADD_FAILURE() << "systemd-analyze not found (Debian package systemd): run scripts/install-deps.sh test";
  }
  return path;
}

// The shipped unit with ExecStart pointed at an executable that exists
// here (verify checks that the command is executable), same arguments.
std::string TestableCopy(const std::string& unit_text) {
  std::string copy = unit_text;
  std::string from = "ExecStart=";
  from += kShippedExecStart;
  size_t at = copy.find(from);
  EXPECT_NE(at, std::string::npos) << "ExecStart is not " << kShippedExecStart;
  if (at != std::string::npos) {
    copy.replace(at, from.size(), "ExecStart=/bin/true run --config /etc/freshet/freshet.json");
  }
  return copy;
}

testing::CommandResult Verify(const std::string& analyze, const std::string& unit_path) {
  // No man page lookups (Documentation=), no generators (they need a
  // running systemd and root-only directories).
  return testing::RunCommand({.argv = {analyze, "verify", "--man=no", "--generators=no", unit_path},
                              .env = {{"SYSTEMD_PAGER", "cat"}, {"SYSTEMD_COLORS", "0"}}},
                             120s);
}

TEST(SystemdUnitTest, SystemdVerifyAcceptsIt) {
  std::string analyze = SystemdAnalyze();
  if (analyze.empty()) return;
  std::string text = ReadFile(UnitPath());
  ASSERT_FALSE(text.empty()) << UnitPath();
  testing::TempDir dir("unit");
  const std::string copy = dir.Join("freshet.service");
  WriteFile(copy, TestableCopy(text));

  testing::CommandResult r = Verify(analyze, copy);
  ASSERT_TRUE(r.start_error.empty()) << r.start_error;
  ASSERT_FALSE(r.timed_out);
  std::vector<std::string> ours = LinesMentioning(r.out + r.err, "freshet.service");
  EXPECT_TRUE(ours.empty()) << ::testing::PrintToString(ours);
  EXPECT_TRUE(r.exit.Ok()) << r.Describe();
}

// The check above can fail: a damaged copy is reported, on lines naming it.
TEST(SystemdUnitTest, SystemdVerifyReportsDamage) {
  std::string analyze = SystemdAnalyze();
  if (analyze.empty()) return;
  std::string text = TestableCopy(ReadFile(UnitPath()));
  size_t at = text.find("Restart=always");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 14, "Restart=sometimes\nWatchdogSecs=60s");
  testing::TempDir dir("unit");
  const std::string copy = dir.Join("freshet.service");
  WriteFile(copy, text);

  testing::CommandResult r = Verify(analyze, copy);
  ASSERT_TRUE(r.start_error.empty()) << r.start_error;
  std::vector<std::string> ours = LinesMentioning(r.out + r.err, "freshet.service");
  EXPECT_EQ(ours.size(), 2u) << ::testing::PrintToString(ours);
  EXPECT_THAT(::testing::PrintToString(ours), HasSubstr("sometimes"));
  EXPECT_THAT(::testing::PrintToString(ours), HasSubstr("WatchdogSecs"));
}

// systemd's offline security review: exposure 0.0 (locked down) .. 10.0
// (unprotected). --threshold is in tenths: 20 means fail above 2.0.
TEST(SystemdUnitTest, ExposureScoreIsLow) {
  std::string analyze = SystemdAnalyze();
  if (analyze.empty()) return;
  testing::TempDir dir("unit");
  const std::string copy = dir.Join("freshet.service");
  WriteFile(copy, TestableCopy(ReadFile(UnitPath())));
  testing::CommandResult r = testing::RunCommand(
      {.argv = {analyze, "security", "--offline=true", "--threshold=20", "--no-pager", copy},
       .env = {{"SYSTEMD_COLORS", "0"}}},
      120s);
  ASSERT_TRUE(r.start_error.empty()) << r.start_error;
  std::vector<std::string> overall = LinesMentioning(r.out, "Overall exposure level for freshet.service:");
  ASSERT_EQ(overall.size(), 1u) << r.out << r.err;
  std::string score = overall[0].substr(overall[0].find(": ") + 2);
  score = score.substr(0, score.find(' '));
  RecordProperty("exposure", score);
  EXPECT_LE(std::stod(score), 2.0) << overall[0];
  EXPECT_TRUE(r.exit.Ok()) << overall[0] << "\n" << r.Describe();
}

TEST(SystemdUnitTest, HasTheKeysTheDaemonReliesOn) {
  std::string text = ReadFile(UnitPath());
  ASSERT_FALSE(text.empty()) << UnitPath();
  UnitFile u = ParseUnit(text);

  // sd_notify: READY/STOPPING/STATUS from the main process, watchdog pings.
  EXPECT_EQ(u.One("Service.Type"), "notify");
  EXPECT_EQ(u.One("Service.NotifyAccess"), "main");
  EXPECT_EQ(u.One("Service.ExecStart"), kShippedExecStart);
  EXPECT_EQ(u.One("Service.Restart"), "always");
  EXPECT_EQ(u.One("Service.RestartSec"), "2s");
  EXPECT_EQ(u.One("Service.WatchdogSec"), "60s");
  EXPECT_EQ(u.One("Service.KillSignal"), "SIGTERM");
  EXPECT_EQ(u.One("Service.KillMode"), "mixed");

  // systemd must wait longer than the daemon's default drain before SIGKILL.
  auto stop = ParseDuration(u.One("Service.TimeoutStopSec"));
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_GT(*stop, WatchdogOptions{}.drain_timeout);
  EXPECT_LE(*stop, WatchdogOptions{}.drain_timeout * 2);

  // Identity and state: the run-state file (a relative state_file) lands in
  // the state directory because it is the working directory.
  EXPECT_EQ(u.One("Service.DynamicUser"), "yes");
  EXPECT_EQ(u.One("Service.User"), "freshet");
  EXPECT_EQ(u.One("Service.Group"), "freshet");
  EXPECT_EQ(u.One("Service.StateDirectory"), "freshet");
  EXPECT_EQ(u.One("Service.WorkingDirectory"), "/var/lib/freshet");
  EXPECT_EQ(WatchdogOptions{}.state_file.find('/'), std::string::npos) << "state_file default is not relative";
  EXPECT_THAT(u.comments, HasSubstr("freshet-run.json"));

  // The admin token comes from the environment file, never the unit.
  EXPECT_EQ(u.One("Service.EnvironmentFile"), "-/etc/freshet/freshet.env");
  EXPECT_THAT(u.comments, HasSubstr("FRESHET_ADMIN_TOKEN"));
  for (const std::string& env : u.keys["Service.Environment"]) {
    EXPECT_THAT(env, ::testing::Not(HasSubstr("FRESHET_ADMIN_TOKEN"))) << "a token in the unit itself";
  }

  EXPECT_EQ(u.One("Service.LimitNOFILE"), "65536");

  // Sandbox.
  for (const char* key : {"NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                          "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
                          "ProtectHostname", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
                          "LockPersonality", "MemoryDenyWriteExecute"}) {
    EXPECT_EQ(u.One(std::string("Service.") + key), "yes") << key;
  }
  EXPECT_EQ(u.One("Service.ProtectSystem"), "strict");
  EXPECT_EQ(u.One("Service.RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX");
  EXPECT_EQ(u.One("Service.SystemCallArchitectures"), "native");
  ASSERT_FALSE(u.keys["Service.SystemCallFilter"].empty());
  EXPECT_EQ(u.keys["Service.SystemCallFilter"].front(), "@system-service");
  EXPECT_EQ(u.One("Service.CapabilityBoundingSet"), "");
  EXPECT_EQ(u.commented["Service.ReadWritePaths"].size(), 1u) << "the file:// sink note";

  // The planned-restart choice: max_uptime in the config (active), or
  // systemd's RuntimeMaxSec shown commented out, with the difference.
  EXPECT_EQ(u.keys.count("Service.RuntimeMaxSec"), 0u) << "RuntimeMaxSec would override max_uptime restarts";
  EXPECT_EQ(u.commented["Service.RuntimeMaxSec"], std::vector<std::string>{"24h"});
  EXPECT_THAT(u.comments, HasSubstr("max_uptime"));
  EXPECT_THAT(u.comments, HasSubstr("planned restart"));
  EXPECT_THAT(u.comments, HasSubstr("clean stop"));

  EXPECT_EQ(u.One("Install.WantedBy"), "multi-user.target");
}

}  // namespace
}  // namespace freshet
