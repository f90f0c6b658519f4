#include "ingest/record_runs.h"

#include <dirent.h>
#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/posix_error.h"
#include "base/release_memory.h"
#include "base/spool_file.h"
#include "index/checksum.h"
#include "index/coding.h"
#include "ingest/entity_table.h"

namespace freshet {
namespace {

constexpr std::string_view kRunPrefix = "freshet-run-";
constexpr std::string_view kRunSuffix = ".run";
// Records are encoded into blocks of about this many bytes, each LZ4
// compressed on its own: a reader holds one decoded block per run.
constexpr size_t kRunBlockBytes = 256 * 1024;
// A frame: raw length, stored length, XXH64 of the stored bytes.
constexpr size_t kFrameHeader = 16;

size_t StringHeap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

void EncodeRecord(const EntityRecord& r, std::string* out) {
  PutVarint32(out, r.level);
  PutLengthPrefixed(out, r.id);
  PutLengthPrefixed(out, r.parent_id);
  PutFixed64(out, static_cast<uint64_t>(r.version));
  out->push_back(static_cast<char>((r.deleted ? 1 : 0) | (r.active ? 2 : 0) | (r.plain ? 4 : 0)));
  PutLengthPrefixed(out, r.json());
  PutVarint32(out, static_cast<uint32_t>(r.fields.size()));
  for (const ValueSpan& s : r.fields) {
    PutVarint32(out, s.offset);
    PutVarint32(out, s.length);
  }
  PutFixed64(out, r.tiebreak);
  PutLengthPrefixed(out, r.source);
  PutVarint32(out, r.line);
}

// Decodes one record from the front of *in into *r (its buffers reused).
bool DecodeRecord(std::string_view* in, EntityRecord* r) {
  uint32_t level = 0, n = 0;
  std::string_view id, parent, fields_json, source;
  uint64_t version = 0, tiebreak = 0;
  if (!GetVarint32(in, &level) || level > UINT16_MAX || !GetLengthPrefixed(in, &id) ||
      !GetLengthPrefixed(in, &parent) || !GetFixed64(in, &version) || in->empty()) {
    return false;
  }
  const auto flags = static_cast<unsigned char>(in->front());
  in->remove_prefix(1);
  if (!GetLengthPrefixed(in, &fields_json) || !GetVarint32(in, &n) || n > in->size()) return false;
  r->fields.resize(n);
  for (ValueSpan& s : r->fields) {
    if (!GetVarint32(in, &s.offset) || !GetVarint32(in, &s.length) ||
        uint64_t{s.offset} + s.length > fields_json.size()) {
      return false;
    }
  }
  if (!GetFixed64(in, &tiebreak) || !GetLengthPrefixed(in, &source) || !GetVarint32(in, &r->line)) return false;
  r->level = static_cast<uint16_t>(level);
  r->id.assign(id);
  r->parent_id.assign(parent);
  r->version = static_cast<int64_t>(version);
  r->deleted = (flags & 1) != 0;
  r->active = (flags & 2) != 0;
  r->plain = (flags & 4) != 0;
  r->fields_json.assign(fields_json);
  r->tiebreak = tiebreak;
  r->source.assign(source);
  return true;
}

std::string NextRunPath(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  return dir + "/" + std::string(kRunPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         std::string(kRunSuffix);
}

// Writes `records` (sorted, unique) as a run file at `path`; the bytes
// written into *bytes.
Status WriteRun(const std::string& path, const std::vector<EntityRecord>& records, uint64_t* bytes) {
  Fd fd(OpenFile(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0600));
  if (!fd.valid()) return PosixError("create scratch run " + path, errno);
  std::string raw, frame;
  auto flush = [&]() -> Status {
    if (raw.empty()) return Status();
    const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
    frame.resize(kFrameHeader + static_cast<size_t>(bound));
    const int n = LZ4_compress_default(raw.data(), frame.data() + kFrameHeader, static_cast<int>(raw.size()), bound);
    if (n <= 0) return Status::Internal("LZ4 could not compress a block of scratch run " + path);
    frame.resize(kFrameHeader + static_cast<size_t>(n));
    std::string header;
    PutFixed32(&header, static_cast<uint32_t>(raw.size()));
    PutFixed32(&header, static_cast<uint32_t>(n));
    PutFixed64(&header, Xxh64(std::string_view(frame).substr(kFrameHeader)));
    frame.replace(0, kFrameHeader, header);
    FRESHET_RETURN_IF_ERROR(WriteAllTo(fd.get(), frame, path));
    *bytes += frame.size();
    raw.clear();
    return Status();
  };
  for (const EntityRecord& r : records) {
    EncodeRecord(r, &raw);
    if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
      return Status::InvalidArgument("a record of " + r.source + " is too large for a scratch run");
    }
    if (raw.size() >= kRunBlockBytes) FRESHET_RETURN_IF_ERROR(flush());
  }
  FRESHET_RETURN_IF_ERROR(flush());
  // Not fsynced: a run lives for one build, and a crash discards it.
  if (fd.Close() != 0) return PosixError("close scratch run " + path, errno);
  return Status();
}

}  // namespace

size_t RecordFootprint(const EntityRecord& r) {
  return sizeof(EntityRecord) + StringHeap(r.id) + StringHeap(r.parent_id) + StringHeap(r.fields_json) +
         StringHeap(r.source) + r.fields.capacity() * sizeof(ValueSpan);
}

Status RemoveScratchRuns(const std::string& scratch_dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(scratch_dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return Status();
    return PosixError("list scratch directory " + scratch_dir, ec.value());
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Sort runs, and spooled output files (base/spool_file.h).
    size_t prefix = 0;
    if (name.starts_with(kRunPrefix) && name.ends_with(kRunSuffix)) {
      prefix = kRunPrefix.size();
    } else if (name.starts_with(kSpoolPrefix) && name.ends_with(kSpoolSuffix)) {
      prefix = kSpoolPrefix.size();
    } else {
      continue;
    }
    // Another daemon may share the directory (the default is the system's
    // temp dir): only a file whose process is gone is left over.
    int pid = 0;
    const char* digits = name.data() + prefix;
    const auto [end, err] = std::from_chars(digits, name.data() + name.size(), pid);
    if (err == std::errc() && end != digits && *end == '-' && pid > 0 &&
        (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH)) {
      continue;
    }
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
      return PosixError("remove scratch run " + it->path().string(), errno);
    }
  }
  if (ec) return PosixError("list scratch directory " + scratch_dir, ec.value());
  return Status();
}

// One sorted, unique source of records: a run file or the records held.
class SortedRecords::Cursor {
 public:
  virtual ~Cursor() = default;
  // Loads the next record into `current`; false at the end (error stays
  // OK) or on a read error (*error set).
  virtual bool Advance(Status* error) = 0;
  EntityRecord current;
};

namespace {

class HeldCursor final : public SortedRecords::Cursor {
 public:
  explicit HeldCursor(std::vector<EntityRecord> records) : records_(std::move(records)) {}
  bool Advance(Status*) override {
    if (next_ == records_.size()) {
      FreeBuffer(records_);
      return false;
    }
    current = std::move(records_[next_]);
    records_[next_++] = EntityRecord();  // its buffers go now, not at the end
    return true;
  }

 private:
  std::vector<EntityRecord> records_;
  size_t next_ = 0;
};

class RunCursor final : public SortedRecords::Cursor {
 public:
  RunCursor(std::string path, Fd fd, uint64_t size) : path_(std::move(path)), fd_(std::move(fd)), file_size_(size) {}
  ~RunCursor() override { Remove(); }

  bool Advance(Status* error) override {
    if (rest_.empty() && !ReadBlock(error)) {
      // Read to its end: the run goes now, not when the stream does (which
      // may outlive the build that read it).
      if (error->ok()) Remove();
      return false;
    }
    if (!DecodeRecord(&rest_, &current)) {
      *error = Corrupt("a record does not decode");
      return false;
    }
    return true;
  }

 private:
  void Remove() {
    if (removed_) return;
    removed_ = true;
    fd_.Close();
    ::unlink(path_.c_str());
  }
  Status Corrupt(std::string_view what) const {
    return Status::DataLoss("scratch run " + path_ + " at offset " + std::to_string(offset_) + ": " +
                            std::string(what));
  }
  // Reads all of [offset_, offset_ + n) into *out; false at a clean end.
  bool ReadAt(size_t n, std::string* out, bool eof_ok, Status* error) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_.get(), out->data() + got, n - got, static_cast<off_t>(offset_ + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        *error = PosixError("read scratch run " + path_, errno);
        return false;
      }
      if (r == 0) {
        if (!(eof_ok && got == 0)) *error = Corrupt("truncated");
        return false;
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }
  bool ReadBlock(Status* error) {
    std::string header;
    if (!ReadAt(kFrameHeader, &header, /*eof_ok=*/true, error)) return false;
    const uint32_t raw_len = DecodeFixed32(header.data());
    const uint32_t stored_len = DecodeFixed32(header.data() + 4);
    const uint64_t sum = DecodeFixed64(header.data() + 8);
    if (raw_len == 0 || raw_len > static_cast<uint32_t>(LZ4_MAX_INPUT_SIZE) ||
        stored_len > static_cast<uint32_t>(LZ4_compressBound(static_cast<int>(raw_len))) ||
        offset_ + kFrameHeader + stored_len > file_size_) {
      *error = Corrupt("bad block header");
      return false;
    }
    offset_ += kFrameHeader;
    if (!ReadAt(stored_len, &stored_, /*eof_ok=*/false, error)) return false;
    if (Xxh64(stored_) != sum) {
      *error = Corrupt("checksum mismatch");
      return false;
    }
    block_.resize(raw_len);
    const int n = LZ4_decompress_safe(stored_.data(), block_.data(), static_cast<int>(stored_len),
                                      static_cast<int>(raw_len));
    if (n < 0 || static_cast<uint32_t>(n) != raw_len) {
      *error = Corrupt("LZ4 decompression failed");
      return false;
    }
    offset_ += stored_len;
    rest_ = block_;
    return true;
  }

  const std::string path_;
  Fd fd_;
  const uint64_t file_size_;
  uint64_t offset_ = 0;
  bool removed_ = false;
  std::string stored_, block_;
  std::string_view rest_;  // into block_
};

}  // namespace

RecordSorter::RecordSorter(RecordSorterOptions options) : options_(std::move(options)) {}

RecordSorter::~RecordSorter() {
  for (const std::string& path : runs_) ::unlink(path.c_str());
}

Status RecordSorter::Add(std::vector<EntityRecord>* records) {
  if (!status_.ok()) return status_;
  for (EntityRecord& r : *records) {
    if (in_key_order_) {
      in_key_order_ = !has_last_ || last_level_ < r.level || (last_level_ == r.level && last_id_ <= r.id);
      has_last_ = true;
      last_level_ = r.level;
      last_id_.assign(r.id);
    }
    held_bytes_ += RecordFootprint(r);
    held_.push_back(std::move(r));
    if (options_.memory_bytes > 0 && held_bytes_ >= options_.memory_bytes) {
      status_ = Spill();
      if (!status_.ok()) break;
    }
  }
  FreeBuffer(*records);
  return status_;
}

Status RecordSorter::Spill() {
  if (held_.empty()) return Status();
  if (options_.scratch_dir.empty()) return Status::InvalidArgument("records past the memory limit need a scratch_dir");
  std::error_code ec;
  std::filesystem::create_directories(options_.scratch_dir, ec);
  if (ec) return PosixError("create scratch directory " + options_.scratch_dir, ec.value());
  uint64_t dropped = 0;
  std::vector<EntityRecord> sorted = SortNewestPerKey(std::move(held_), &dropped);
  FreeBuffer(held_);
  held_bytes_ = 0;
  dropped_ += dropped;
  std::string path = NextRunPath(options_.scratch_dir);
  runs_.push_back(path);  // removed by the destructor even if writing fails
  return WriteRun(path, sorted, &bytes_written_);
}

Result<std::unique_ptr<SortedRecords>> RecordSorter::Finish() {
  if (!status_.ok()) return status_;
  std::vector<std::unique_ptr<SortedRecords::Cursor>> cursors;
  for (std::string& path : runs_) {
    Fd fd(OpenFile(path.c_str(), O_RDONLY));
    if (!fd.valid()) return PosixError("open scratch run " + path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return PosixError("stat scratch run " + path, errno);
    cursors.push_back(std::make_unique<RunCursor>(std::move(path), std::move(fd), static_cast<uint64_t>(st.st_size)));
  }
  runs_.clear();  // the cursors own (and remove) them now
  uint64_t dropped = dropped_;
  uint64_t held_dropped = 0;
  cursors.push_back(std::make_unique<HeldCursor>(SortNewestPerKey(std::move(held_), &held_dropped)));
  FreeBuffer(held_);
  held_bytes_ = 0;
  dropped += held_dropped;
  auto out = std::unique_ptr<SortedRecords>(new SortedRecords(std::move(cursors), dropped));
  if (!out->status().ok()) return out->status();
  return out;
}

SortedRecords::SortedRecords(std::vector<std::unique_ptr<Cursor>> cursors, uint64_t dropped)
    : cursors_(std::move(cursors)), dropped_(dropped) {
  for (size_t i = 0; i < cursors_.size() && status_.ok(); ++i) {
    if (cursors_[i]->Advance(&status_)) heap_.push_back(i);
  }
  std::make_heap(heap_.begin(), heap_.end(), [this](size_t a, size_t b) { return Less(b, a); });
}

SortedRecords::~SortedRecords() = default;

bool SortedRecords::Less(size_t a, size_t b) const {
  const EntityRecord& x = cursors_[a]->current;
  const EntityRecord& y = cursors_[b]->current;
  const int k = CompareKeys(x, y);
  if (k != 0) return k < 0;
  return Supersedes(x, y);
}

bool SortedRecords::Next(EntityRecord* out) {
  if (!status_.ok() || heap_.empty()) return false;
  auto greater = [this](size_t a, size_t b) { return Less(b, a); };
  std::pop_heap(heap_.begin(), heap_.end(), greater);
  const size_t best = heap_.back();
  heap_.pop_back();
  // Every other run's copy of this key comes next (older: the heap orders
  // newest first within a key); each run holds a key at most once.
  while (!heap_.empty() && CompareKeys(cursors_[heap_.front()]->current, cursors_[best]->current) == 0) {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    const size_t older = heap_.back();
    heap_.pop_back();
    ++dropped_;
    if (cursors_[older]->Advance(&status_)) {
      heap_.push_back(older);
      std::push_heap(heap_.begin(), heap_.end(), greater);
    } else if (!status_.ok()) {
      return false;
    }
  }
  std::swap(*out, cursors_[best]->current);
  ++streamed_;
  // A read error here ends the stream at the next call.
  if (cursors_[best]->Advance(&status_)) {
    heap_.push_back(best);
    std::push_heap(heap_.begin(), heap_.end(), greater);
  }
  return true;
}

}  // namespace freshet
