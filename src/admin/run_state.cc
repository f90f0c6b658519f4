#include "admin/run_state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>

#include "base/atomic_file.h"
#include "base/json_reader.h"
#include "base/posix_error.h"

namespace freshet {
namespace {

// Bumped only with a reader for the old format; DecodeRunState refuses others.
constexpr int kRunStateFormat = 1;
// The file is ~200 bytes; anything much larger is not ours.
constexpr size_t kMaxRunStateBytes = 64 * 1024;

std::optional<RunEnd> ParseRunEnd(std::string_view name) {
  for (RunEnd e : {RunEnd::kRunning, RunEnd::kStopped, RunEnd::kPlanned}) {
    if (RunEndName(e) == name) return e;
  }
  return std::nullopt;
}

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
  FRESHET_ASSIGN_OR_RETURN(JsonDocument doc, JsonDocument::Parse(json, "run state", kMaxRunStateBytes));
  const JsonObject root = doc.root();
  FRESHET_RETURN_IF_ERROR(root.CheckFormat("format", kRunStateFormat));
  FRESHET_RETURN_IF_ERROR(
      root.CheckKeys({"format", "starts", "planned_restarts", "unplanned_restarts", "last_end", "last_start"}));

  RunState s;
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("starts", &s.starts));
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("planned_restarts", &s.planned_restarts));
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("unplanned_restarts", &s.unplanned_restarts));
  if (s.planned_restarts > s.starts || s.unplanned_restarts > s.starts - s.planned_restarts) {
    return root.Bad("starts", "is smaller than planned_restarts + unplanned_restarts");
  }
  std::string end_name;
  FRESHET_RETURN_IF_ERROR(root.ReadString("last_end", &end_name));
  std::optional<RunEnd> parsed_end = ParseRunEnd(end_name);
  if (!parsed_end) {
    return root.Bad("last_end", "is \"" + end_name.substr(0, 32) + "\", not \"running\", \"stopped\" or \"planned\"");
  }
  s.last_end = *parsed_end;
  FRESHET_RETURN_IF_ERROR(root.ReadTime("last_start", &s.last_start));
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
  std::string body = EncodeRunState(state);
  body += '\n';
  return WriteFileAtomically(path, body, "run state");
}

}  // namespace freshet
