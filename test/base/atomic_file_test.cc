// The one temp+fsync+rename implementation: a file is replaced whole or not
// at all, create-only placement refuses an existing file, and no temp file
// outlives a failure.
#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <sys/stat.h>

#include <filesystem>

#include "testing/files.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFileTest, ReplacesWholeFilesAndLeavesNoTemp) {
  testing::TempDir dir("atomic");
  const std::string path = dir.Join("state.json");
  ASSERT_TRUE(WriteFileAtomically(path, "one", "state").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two, longer", "state").ok());
  EXPECT_EQ(testing::ReadFile(path), "two, longer");
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"state.json"});
}

TEST(AtomicFileTest, FailuresNameThePathAndRemoveTheTemp) {
  testing::TempDir dir("atomic");
  // A non-empty directory where the file should go: the rename fails.
  const std::string path = dir.Join("state.json");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomically(path + "/keep", "x", "state").ok());
  Status st = WriteFileAtomically(path, "body", "state");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("state: rename"));
  EXPECT_THAT(st.message(), ::testing::HasSubstr(path));
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"state.json"});
  // A missing directory: nothing is created.
  st = WriteFileAtomically(dir.Join("no/such/dir/f"), "body", "state");
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
}

TEST(AtomicFileTest, CreateOnlyPlacementRefusesAnExistingFile) {
  testing::TempDir dir("atomic");
  const std::string dest = dir.Join("obj");
  {
    TempFile t;
    ASSERT_EQ(TempFile::Create(dir.path(), ".tmp-1", 0644, &t), 0);
    ASSERT_TRUE(t.Write("first").ok());
    ASSERT_TRUE(t.Sync().ok());
    EXPECT_EQ(t.RenameNoReplace(dest), 0);
  }
  {
    TempFile t;
    ASSERT_EQ(TempFile::Create(dir.path(), ".tmp-2", 0644, &t), 0);
    ASSERT_TRUE(t.Write("second").ok());
    EXPECT_EQ(t.RenameNoReplace(dest), EEXIST);
    TempFile again;
    EXPECT_EQ(TempFile::Create(dir.path(), ".tmp-2", 0644, &again), EEXIST) << "names are exclusive";
  }
  EXPECT_EQ(testing::ReadFile(dest), "first");
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"obj"}) << "the refused temp file is gone";
  ASSERT_TRUE(SyncDirectory(dir.path()).ok());
  EXPECT_EQ(SyncDirectory(dir.Join("missing")).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace freshet
