// RAII temporary directory for tests.
//
//   testing::TempDir dir;                 // $TMPDIR/freshet-test-XXXXXX
//   std::string p = dir.Join("a/b.txt");  // dir.path() + "/a/b.txt"
//
// The directory and everything in it are removed when the object dies,
// unless FRESHET_KEEP_TEMP is set in the environment (the path is then
// printed to stderr, for post-mortems). Creation failure aborts the test
// binary with a message: there is nothing useful a test can do without it.
#pragma once

#include <string>
#include <string_view>

namespace freshet::testing {

class TempDir {
 public:
  // `label` becomes part of the directory name (only [A-Za-z0-9_-] kept),
  // which helps tell leftovers apart.
  explicit TempDir(std::string_view label = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path without a trailing '/'.
  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Join(std::string_view relative) const;

 private:
  std::string path_;
};

}  // namespace freshet::testing
