#include "admin/run_state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <initializer_list>

#include "base/posix_error.h"

namespace freshet {
namespace {

// Bumped only with a reader for the old format; DecodeRunState refuses others.
constexpr int kRunStateFormat = 1;
// The file is ~200 bytes; anything much larger is not ours.
constexpr size_t kMaxRunStateBytes = 64 * 1024;

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Returns close()'s errno (0 on success); the descriptor is gone either way.
  int Close() {
    if (fd_ < 0) return 0;
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status Bad(std::string_view key, std::string_view problem) {
  std::string m = "run state: \"";
  m += key;
  m += "\" ";
  m += problem;
  return Status::DataLoss(std::move(m));
}

const rapidjson::Value* Find(const rapidjson::Value& obj, std::string_view key) {
  auto it = obj.FindMember(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// Exactly the keys EncodeRunState writes: the file is written whole, so an
// unknown, missing or repeated key is damage or a different format.
Status CheckKeys(const rapidjson::Value& obj, std::initializer_list<std::string_view> keys) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view k : keys) known = known || k == name;
    if (!known) return Bad(name.substr(0, 64), "is not a run-state key");
  }
  for (std::string_view k : keys) {
    if (Find(obj, k) == nullptr) return Bad(k, "is missing");
  }
  if (obj.MemberCount() != keys.size()) return Status::DataLoss("run state: a key repeats");
  return Status::Ok();
}

Status ReadCount(const rapidjson::Value& obj, std::string_view key, uint64_t* out) {
  const rapidjson::Value& v = *Find(obj, key);
  if (!v.IsUint64()) return Bad(key, "is not a non-negative integer");
  *out = v.GetUint64();
  return Status::Ok();
}

std::optional<RunEnd> ParseRunEnd(std::string_view name) {
  for (RunEnd e : {RunEnd::kRunning, RunEnd::kStopped, RunEnd::kPlanned}) {
    if (RunEndName(e) == name) return e;
  }
  return std::nullopt;
}

// Temp names are unique per process and call, so two writers (which should
// not exist, but a stale process might) never share a temp file.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

std::string_view RunEndName(RunEnd end) {
  switch (end) {
    case RunEnd::kRunning: return "running";
    case RunEnd::kStopped: return "stopped";
    case RunEnd::kPlanned: return "planned";
  }
  return "unknown";
}

std::string EncodeRunState(const RunState& state) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.Int(kRunStateFormat);
  w.Key("starts");
  w.Uint64(state.starts);
  w.Key("planned_restarts");
  w.Uint64(state.planned_restarts);
  w.Key("unplanned_restarts");
  w.Uint64(state.unplanned_restarts);
  w.Key("last_end");
  std::string_view end = RunEndName(state.last_end);
  w.String(end.data(), static_cast<rapidjson::SizeType>(end.size()));
  w.Key("last_start");
  std::string start = FormatRfc3339(state.last_start);
  w.String(start.data(), static_cast<rapidjson::SizeType>(start.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<RunState> DecodeRunState(std::string_view json) {
  if (json.size() > kMaxRunStateBytes) {
    return Status::DataLoss("run state is " + std::to_string(json.size()) + " bytes, more than the " +
                            std::to_string(kMaxRunStateBytes) + " it can be");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    std::string m = "run state is not valid JSON: ";
    m += rapidjson::GetParseError_En(doc.GetParseError());
    m += " at offset ";
    m += std::to_string(doc.GetErrorOffset());
    return Status::DataLoss(std::move(m));
  }
  if (!doc.IsObject()) return Status::DataLoss("run state is not a JSON object");

  // The format decides how to read the rest, so it is checked first.
  const rapidjson::Value* fmt = Find(doc, "format");
  if (fmt == nullptr) return Bad("format", "is missing");
  if (!fmt->IsInt()) return Bad("format", "is not an integer");
  if (fmt->GetInt() != kRunStateFormat) {
    return Bad("format", "is " + std::to_string(fmt->GetInt()) + "; this freshet reads format " +
                             std::to_string(kRunStateFormat));
  }
  FRESHET_RETURN_IF_ERROR(
      CheckKeys(doc, {"format", "starts", "planned_restarts", "unplanned_restarts", "last_end", "last_start"}));

  RunState s;
  FRESHET_RETURN_IF_ERROR(ReadCount(doc, "starts", &s.starts));
  FRESHET_RETURN_IF_ERROR(ReadCount(doc, "planned_restarts", &s.planned_restarts));
  FRESHET_RETURN_IF_ERROR(ReadCount(doc, "unplanned_restarts", &s.unplanned_restarts));
  if (s.planned_restarts > s.starts || s.unplanned_restarts > s.starts - s.planned_restarts) {
    return Bad("starts", "is smaller than planned_restarts + unplanned_restarts");
  }

  const rapidjson::Value& end = *Find(doc, "last_end");
  if (!end.IsString()) return Bad("last_end", "is not a string");
  std::string_view end_name(end.GetString(), end.GetStringLength());
  std::optional<RunEnd> parsed_end = ParseRunEnd(end_name);
  if (!parsed_end) {
    std::string problem = "is \"";
    problem += end_name.substr(0, 32);
    problem += "\", not \"running\", \"stopped\" or \"planned\"";
    return Bad("last_end", problem);
  }
  s.last_end = *parsed_end;

  const rapidjson::Value& start = *Find(doc, "last_start");
  if (!start.IsString()) return Bad("last_start", "is not an RFC 3339 time");
  auto t = ParseRfc3339(std::string_view(start.GetString(), start.GetStringLength()));
  if (!t.ok()) return Bad("last_start", t.status().message());
  s.last_start = *t;
  return s;
}

RunState BeginRun(const std::optional<RunState>& previous, TimePoint now) {
  RunState next;
  if (previous) {
    next = *previous;
    switch (previous->last_end) {
      case RunEnd::kRunning: ++next.unplanned_restarts; break;  // never recorded its end
      case RunEnd::kPlanned: ++next.planned_restarts; break;
      case RunEnd::kStopped: break;                             // a deliberate stop, then a start
    }
  }
  ++next.starts;
  next.last_end = RunEnd::kRunning;
  next.last_start = now;
  return next;
}

Result<std::optional<RunState>> LoadRunState(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return std::optional<RunState>();
    return PosixError("run state: open '" + path + "'", err);
  }
  // Read one byte past the limit so an oversized file is told apart from
  // one exactly at it.
  std::string data;
  char buf[4096];
  while (data.size() <= kMaxRunStateBytes) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("run state: read '" + path + "'", errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  Result<RunState> state = DecodeRunState(data);
  if (!state.ok()) return state.status().WithContext("'" + path + "'");
  return std::optional<RunState>(std::move(*state));
}

Status SaveRunState(const std::string& path, const RunState& state) {
  const std::string dir = DirOf(path);
  std::string temp_path = path;
  temp_path += ".tmp-";
  temp_path += std::to_string(::getpid());
  temp_path += '-';
  temp_path += std::to_string(temp_counter.fetch_add(1));

  Fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return PosixError("run state: create temp file '" + temp_path + "' for '" + path + "'", errno);
  auto fail = [&temp_path](Status st) {
    ::unlink(temp_path.c_str());
    return st;
  };

  std::string body = EncodeRunState(state);
  body += '\n';
  size_t done = 0;
  while (done < body.size()) {
    ssize_t n = ::write(fd.get(), body.data() + done, body.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(PosixError("run state: write '" + temp_path + "'", errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(PosixError("run state: fsync '" + temp_path + "'", errno));
  if (int err = fd.Close(); err != 0) return fail(PosixError("run state: close '" + temp_path + "'", err));
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return fail(PosixError("run state: rename '" + temp_path + "' over '" + path + "'", errno));
  }
  // The rename is durable only once the directory entry is.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return PosixError("run state: open directory '" + dir + "' of '" + path + "' for fsync", errno);
  if (::fsync(dir_fd.get()) != 0) {
    return PosixError("run state: fsync directory '" + dir + "' of '" + path + "'", errno);
  }
  return Status::Ok();
}

}  // namespace freshet
