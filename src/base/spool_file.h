// Spool files: an output file's bytes on local disk, from the moment they
// are encoded until they are committed, instead of in memory. A full's
// "stored" file is as large as the corpus compressed; held as a string it
// would be the biggest single allocation of a build and grow with the
// corpus, past any pipeline.memory_budget.
//
// A SpoolWriter appends (buffered) to a new file in the scratch directory;
// Finish turns it into a SpoolFile, read-only and shared by whoever still
// needs the bytes (the commit's Puts, a retry). The file is removed when
// the last reference goes, or by the writer when it is dropped unfinished.
// A kill leaves it behind: the daemon removes those of dead processes at
// start-up (ingest/record_runs.h RemoveScratchRuns), as it does sort runs.
//
// Blocking file I/O: call from compute or store threads, never from the
// event loop except for the bounded reads noted at call sites.
// Thread-safety: a SpoolWriter is one thread's; a SpoolFile is immutable
// and safe to read from any number of threads (pread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "freshet/status.h"

namespace freshet {

// Spool file names: <prefix><pid>-<n><suffix>, so start-up cleanup can
// tell a live process's files from a dead one's.
inline constexpr std::string_view kSpoolPrefix = "freshet-spool-";
inline constexpr std::string_view kSpoolSuffix = ".spool";

class SpoolFile {
 public:
  ~SpoolFile();  // removes the file
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // A read-only descriptor, open for the file's life (copy_file_range,
  // sendfile).
  int fd() const { return fd_; }

  // `length` bytes at `offset`, exactly: a file that got shorter (someone
  // else touched the scratch directory) is kDataLoss naming it.
  Result<std::string> Read(uint64_t offset, uint64_t length) const;
  Result<std::string> ReadAll() const { return Read(0, size_); }

 private:
  friend class SpoolWriter;
  SpoolFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}

  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

// Appends the whole of `file` to the open descriptor `fd` (copied in the
// kernel where it can be: copy_file_range, else read and write in 1 MiB
// pieces). Errors name `dest` and the spool.
Status CopySpool(const SpoolFile& file, int fd, const std::string& dest);

class SpoolWriter {
 public:
  // A new, empty spool file in `dir` (created if missing). Errors name it.
  static Result<std::unique_ptr<SpoolWriter>> Create(const std::string& dir);
  ~SpoolWriter();  // removes the file unless Finish succeeded
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Buffers up to 1 MiB, then writes. An I/O error names the file and
  // sticks: later calls and Finish return it.
  Status Append(std::string_view data);
  uint64_t size() const { return size_; }

  // Writes what is buffered and hands the file over. Not fsynced: a spool
  // lives for one commit, and a crash discards it. Call once.
  Result<std::shared_ptr<const SpoolFile>> Finish();

 private:
  SpoolWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Flush();

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string buffer_;
  Status status_;
};

}  // namespace freshet
