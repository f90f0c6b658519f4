#include "base/spool_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

size_t FilesIn(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 3) % 26);
  return s;
}

TEST(SpoolFileTest, WritesReadsAndRemovesWithTheLastReference) {
  testing::TempDir dir("spool");
  const std::string scratch = dir.Join("scratch");  // created on demand
  auto w = SpoolWriter::Create(scratch);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Pieces below, across and above the 1 MiB buffer.
  const std::string all = Pattern(3'500'000);
  size_t at = 0;
  for (size_t n : {10u, 1u << 20, 5u, 2'000'000u}) {
    ASSERT_TRUE((*w)->Append(std::string_view(all).substr(at, n)).ok());
    at += n;
  }
  ASSERT_TRUE((*w)->Append(std::string_view(all).substr(at)).ok());
  EXPECT_EQ((*w)->size(), all.size());
  auto file = (*w)->Finish();
  ASSERT_TRUE(file.ok());
  w->reset();
  const std::string path = (*file)->path();
  EXPECT_THAT(std::filesystem::path(path).filename().string(), ::testing::StartsWith(std::string(kSpoolPrefix)));
  EXPECT_EQ((*file)->size(), all.size());
  auto back = (*file)->ReadAll();
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == all);
  auto piece = (*file)->Read(1'048'570, 20);
  ASSERT_TRUE(piece.ok());
  EXPECT_EQ(*piece, all.substr(1'048'570, 20));
  EXPECT_EQ((*file)->Read(all.size() - 1, 2).status().code(), StatusCode::kInvalidArgument);

  // Copied whole into another file.
  const std::string copy = dir.Join("copy");
  Fd out(OpenFile(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  ASSERT_TRUE(out.valid());
  ASSERT_TRUE(CopySpool(**file, out.get(), copy).ok());
  out.Close();
  std::ifstream in(copy, std::ios::binary);
  std::string copied((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(copied == all);

  std::shared_ptr<const SpoolFile> second = *file;
  file = Status::Cancelled("dropped");
  EXPECT_TRUE(std::filesystem::exists(path)) << "still referenced";
  second.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(FilesIn(scratch), 0u);
}

TEST(SpoolFileTest, AnUnfinishedWriterLeavesNothing) {
  testing::TempDir dir("spool");
  {
    auto w = SpoolWriter::Create(dir.path());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(Pattern(3 << 20)).ok());
    EXPECT_EQ(FilesIn(dir.path()), 1u);
  }
  EXPECT_EQ(FilesIn(dir.path()), 0u);
}

TEST(SpoolFileTest, AShortenedSpoolIsDataLossNamingIt) {
  testing::TempDir dir("spool");
  auto w = SpoolWriter::Create(dir.path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Pattern(100'000)).ok());
  auto file = (*w)->Finish();
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(::truncate((*file)->path().c_str(), 50'000), 0);
  auto read = (*file)->ReadAll();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), ::testing::HasSubstr((*file)->path()));
  const std::string copy = dir.Join("copy");
  Fd out(OpenFile(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  Status st = CopySpool(**file, out.get(), copy);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

TEST(SpoolFileTest, AnUnusableDirectoryIsNamed) {
  testing::TempDir dir("spool");
  { std::ofstream(dir.Join("file")) << "x"; }
  auto w = SpoolWriter::Create(dir.Join("file/below"));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), ::testing::HasSubstr(dir.Join("file/below")));
}

}  // namespace
}  // namespace freshet
