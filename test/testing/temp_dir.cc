#include "testing/temp_dir.h"

#include <errno.h>
#include <stdlib.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace freshet::testing {

TempDir::TempDir(std::string_view label) {
  const char* env = std::getenv("TMPDIR");
  std::string base = (env != nullptr && *env != '\0') ? env : "/tmp";
  if (base.front() != '/') {  // keep path() absolute even for a relative $TMPDIR
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(base, ec);
    if (!ec) base = abs.string();
  }
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string clean;
  for (char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') clean.push_back(c);
  }
  std::string templ = base + "/freshet-" + clean + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    std::fprintf(stderr, "TempDir: mkdtemp(%s) failed: %s\n", templ.c_str(), std::strerror(errno));
    std::abort();
  }
  path_ = std::move(templ);
}

TempDir::~TempDir() {
  if (std::getenv("FRESHET_KEEP_TEMP") != nullptr) {
    std::fprintf(stderr, "TempDir: keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) std::fprintf(stderr, "TempDir: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

std::string TempDir::Join(std::string_view relative) const {
  std::string out = path_;
  out += '/';
  out += relative;
  return out;
}

}  // namespace freshet::testing
