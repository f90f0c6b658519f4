#include "admin/run_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "testing/temp_dir.h"
#include "testing/times.h"

namespace freshet {
namespace {

using ::testing::HasSubstr;

using testing::T;

RunState Sample() {
  RunState s;
  s.starts = 12;
  s.planned_restarts = 7;
  s.unplanned_restarts = 3;
  s.last_end = RunEnd::kPlanned;
  s.last_start = T("2026-11-22T14:05:00.250Z");
  return s;
}

void WriteFile(const std::string& path, std::string_view body) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << body;
  ASSERT_TRUE(out.good()) << path;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RunStateTest, EncodeIsDeterministic) {
  EXPECT_EQ(EncodeRunState(Sample()),
            "{\"format\":1,\"starts\":12,\"planned_restarts\":7,\"unplanned_restarts\":3,"
            "\"last_end\":\"planned\",\"last_start\":\"2026-11-22T14:05:00.250Z\"}");
  EXPECT_EQ(EncodeRunState(Sample()), EncodeRunState(Sample()));
}

TEST(RunStateTest, RoundTrips) {
  RunState big = Sample();
  big.starts = UINT64_MAX;
  big.unplanned_restarts = UINT64_MAX - 7;
  big.last_end = RunEnd::kRunning;
  RunState stopped = Sample();
  stopped.last_end = RunEnd::kStopped;
  for (const RunState& s : {RunState{}, Sample(), big, stopped}) {
    std::string json = EncodeRunState(s);
    auto back = DecodeRunState(json);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
    EXPECT_EQ(*back, s) << json;
  }
}

TEST(RunStateTest, RunEndNames) {
  EXPECT_EQ(RunEndName(RunEnd::kRunning), "running");
  EXPECT_EQ(RunEndName(RunEnd::kStopped), "stopped");
  EXPECT_EQ(RunEndName(RunEnd::kPlanned), "planned");
}

TEST(RunStateTest, BeginRunCountsTheRestartKind) {
  const TimePoint now = T("2026-11-23T00:00:00Z");

  RunState first = BeginRun(std::nullopt, now);
  EXPECT_EQ(first.starts, 1u);
  EXPECT_EQ(first.planned_restarts, 0u);
  EXPECT_EQ(first.unplanned_restarts, 0u);
  EXPECT_EQ(first.last_end, RunEnd::kRunning);
  EXPECT_EQ(first.last_start, now);

  RunState prev = Sample();  // 12 starts, 7 planned, 3 unplanned

  prev.last_end = RunEnd::kRunning;  // died without recording its end
  RunState after_crash = BeginRun(prev, now);
  EXPECT_EQ(after_crash.starts, 13u);
  EXPECT_EQ(after_crash.planned_restarts, 7u);
  EXPECT_EQ(after_crash.unplanned_restarts, 4u);
  EXPECT_EQ(after_crash.last_end, RunEnd::kRunning);
  EXPECT_EQ(after_crash.last_start, now);

  prev.last_end = RunEnd::kPlanned;
  RunState after_planned = BeginRun(prev, now);
  EXPECT_EQ(after_planned.starts, 13u);
  EXPECT_EQ(after_planned.planned_restarts, 8u);
  EXPECT_EQ(after_planned.unplanned_restarts, 3u);
  EXPECT_EQ(after_planned.last_end, RunEnd::kRunning);

  prev.last_end = RunEnd::kStopped;
  RunState after_stop = BeginRun(prev, now);
  EXPECT_EQ(after_stop.starts, 13u);
  EXPECT_EQ(after_stop.planned_restarts, 7u);
  EXPECT_EQ(after_stop.unplanned_restarts, 3u);
  EXPECT_EQ(after_stop.last_end, RunEnd::kRunning);
}

TEST(RunStateTest, DecodeRejectsDamageNamingTheKey) {
  const std::string good = EncodeRunState(Sample());
  struct Case {
    std::string json;
    std::string expect;  // in the message
  };
  std::string replaced_end = good;
  replaced_end.replace(replaced_end.find("\"planned\""), 9, "\"crashed\"");
  const std::vector<Case> cases = {
      {good.substr(0, good.size() / 2), "not valid JSON"},
      {"", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {"{\"starts\":1}", "\"format\""},
      {"{\"format\":\"1\"}", "\"format\" is not an integer"},
      {"{\"format\":1,\"starts\":1}", "missing key \"planned_restarts\""},
      {"{\"format\":1,\"starts\":\"12\",\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "\"starts\" is not a non-negative integer"},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":-1,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "\"planned_restarts\" is not a non-negative integer"},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":1.5,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "\"unplanned_restarts\" is not a non-negative integer"},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":1,\"unplanned_restarts\":1,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "\"starts\" is smaller"},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":7,\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "\"last_end\" is not a string"},
      {replaced_end, "\"last_end\" is \"crashed\""},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":12345}",
       "\"last_start\" is not an RFC 3339 time"},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":\"yesterday\"}",
       "\"last_start\""},
      {"{\"format\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\",\"extra\":true}",
       "unknown key \"extra\""},
      {"{\"format\":1,\"starts\":1,\"starts\":1,\"planned_restarts\":0,\"unplanned_restarts\":0,"
       "\"last_end\":\"running\",\"last_start\":\"2026-11-22T14:05:00Z\"}",
       "a key repeats"},
      {std::string(70000, ' '), "more than"},
  };
  for (const Case& c : cases) {
    auto r = DecodeRunState(c.json);
    ASSERT_FALSE(r.ok()) << c.json.substr(0, 200);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(c.expect)) << c.json.substr(0, 200);
  }
  // Another freshet's format is not damage.
  auto other = DecodeRunState("{\"format\":2,\"starts\":1}");
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition) << other.status().ToString();
  EXPECT_THAT(other.status().message(), HasSubstr("\"format\" is 2"));
}

TEST(RunStateTest, MissingFileIsAFirstStart) {
  testing::TempDir dir("runstate");
  auto r = LoadRunState(dir.Join("freshet-run.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST(RunStateTest, SaveThenLoad) {
  testing::TempDir dir("runstate");
  const std::string path = dir.Join("freshet-run.json");
  ASSERT_TRUE(SaveRunState(path, Sample()).ok());
  auto r = LoadRunState(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, Sample());

  // Replacing keeps one file and no temp files next to it.
  RunState next = BeginRun(**r, T("2026-11-23T00:00:00Z"));
  ASSERT_TRUE(SaveRunState(path, next).ok());
  auto again = LoadRunState(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(**again, next);
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"freshet-run.json"});
}

TEST(RunStateTest, RelativePathSavesInTheWorkingDirectory) {
  testing::TempDir dir("runstate");
  char old_cwd[4096];
  ASSERT_NE(::getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  Status st = SaveRunState("freshet-run.json", Sample());
  auto r = LoadRunState("freshet-run.json");
  ASSERT_EQ(::chdir(old_cwd), 0);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->value(), Sample());
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"freshet-run.json"});
}

TEST(RunStateTest, CorruptFilesAreDataLossNamingThePath) {
  testing::TempDir dir("runstate");
  const std::string path = dir.Join("freshet-run.json");
  const std::string good = EncodeRunState(Sample());
  struct Case {
    std::string body;
    std::string expect;
  };
  std::string wrong_type = good;
  wrong_type.replace(wrong_type.find("12"), 2, "true");
  for (const Case& c : std::vector<Case>{{good.substr(0, 20), "not valid JSON"},
                                         {"", "not valid JSON"},
                                         {std::string("\x00\x01garbage", 9), "not valid JSON"},
                                         {wrong_type, "\"starts\" is not a non-negative integer"}}) {
    WriteFile(path, c.body);
    auto r = LoadRunState(path);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(path));
    EXPECT_THAT(r.status().message(), HasSubstr(c.expect));
  }
}

TEST(RunStateTest, UnreadablePathIsAnErrorNamingIt) {
  testing::TempDir dir("runstate");
  // A directory where the file should be: open succeeds, read fails (EISDIR).
  const std::string path = dir.Join("freshet-run.json");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  auto r = LoadRunState(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(RunStateTest, SaveIntoAMissingOrNonDirectoryParentNamesThePath) {
  testing::TempDir dir("runstate");
  WriteFile(dir.Join("a-file"), "x");
  for (const std::string& path : {dir.Join("no-such-dir/freshet-run.json"), dir.Join("a-file/freshet-run.json")}) {
    Status st = SaveRunState(path, Sample());
    ASSERT_FALSE(st.ok()) << path;
    EXPECT_THAT(st.message(), HasSubstr(path));
  }
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"a-file"});
}

TEST(RunStateTest, SaveIntoAReadOnlyDirectoryNamesThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into a 0555 directory; the non-directory case covers root";
  testing::TempDir dir("runstate");
  const std::string sub = dir.Join("ro");
  ASSERT_EQ(::mkdir(sub.c_str(), 0555), 0);
  const std::string path = sub + "/freshet-run.json";
  Status st = SaveRunState(path, Sample());
  ::chmod(sub.c_str(), 0755);  // so TempDir can remove it
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr(path));
}

TEST(RunStateTest, FailedRenameLeavesNoTempFile) {
  testing::TempDir dir("runstate");
  // A non-empty directory in the way: the temp file is written, the rename
  // over it fails, and the temp file must be gone again.
  const std::string path = dir.Join("freshet-run.json");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  WriteFile(path + "/keep", "x");
  Status st = SaveRunState(path, Sample());
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr(path));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"freshet-run.json"});
}

}  // namespace
}  // namespace freshet
