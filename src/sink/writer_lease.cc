#include "sink/writer_lease.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/json_reader.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

constexpr int kLeaseFormat = 1;
constexpr size_t kMaxLeaseBytes = 4096;

std::string Where(ObjectStore& sink) { return sink.Describe() + "/" + std::string(kWriterLeaseKey); }

}  // namespace

std::string EncodeWriterLease(const WriterLease& l) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.Int(kLeaseFormat);
  w.Key("host");
  w.String(l.host);
  w.Key("pid");
  w.Int64(l.pid);
  w.Key("nonce");
  w.String(l.nonce);
  w.Key("since");
  w.String(FormatRfc3339(l.since));
  w.Key("renewed");
  w.String(FormatRfc3339(l.renewed));
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

Result<WriterLease> DecodeWriterLease(std::string_view json) {
  FRESHET_ASSIGN_OR_RETURN(JsonDocument doc, JsonDocument::Parse(json, "writer lease", kMaxLeaseBytes));
  const JsonObject root = doc.root();
  FRESHET_RETURN_IF_ERROR(root.CheckFormat("format", kLeaseFormat));
  FRESHET_RETURN_IF_ERROR(root.CheckKeys({"format", "host", "pid", "nonce", "since", "renewed"}));
  WriterLease l;
  uint64_t pid = 0;
  FRESHET_RETURN_IF_ERROR(root.ReadString("host", &l.host));
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("pid", &pid));
  FRESHET_RETURN_IF_ERROR(root.ReadString("nonce", &l.nonce));
  FRESHET_RETURN_IF_ERROR(root.ReadTime("since", &l.since));
  FRESHET_RETURN_IF_ERROR(root.ReadTime("renewed", &l.renewed));
  l.pid = static_cast<int64_t>(pid);
  return l;
}

WriterLease ThisWriter(TimePoint now) {
  WriterLease l;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  l.host = host;
  l.pid = ::getpid();
  std::random_device rd;
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%08x%08x", rd(), rd());
  l.nonce = nonce;
  l.since = l.renewed = now;
  return l;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::optional<std::string> HeldByAnother(const WriterLease& lease, const WriterLease& me, TimePoint now, std::chrono::milliseconds ttl,
                                         const PidAlive& alive) {
  if (lease.host == me.host && lease.pid == me.pid && lease.nonce == me.nonce) return std::nullopt;
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - lease.renewed);
  if (age > ttl) return std::nullopt;  // not renewed in time: its holder is gone or cut off
  if (lease.host == me.host && !alive(lease.pid)) return std::nullopt;  // crashed here
  return "held by " + lease.Holder() + " since " + FormatRfc3339(lease.since) + ", renewed " +
         FormatDuration(std::max(age, std::chrono::milliseconds(0))) + " ago (lease " + FormatDuration(ttl) + ")";
}

Result<std::string> AcquireWriterLease(ObjectStore& sink, const WriterLease& me, TimePoint now, std::chrono::milliseconds ttl,
                                       const PidAlive& alive) {
  const std::string body = EncodeWriterLease(me);
  for (int attempt = 0; attempt < 4; ++attempt) {
    Result<GetResult> got = GetSync(sink, GetRequest{std::string(kWriterLeaseKey), std::nullopt});
    PutRequest put{std::string(kWriterLeaseKey), body, false, std::nullopt};
    if (!got.ok()) {
      if (got.status().code() != StatusCode::kNotFound) return got.status().WithContext("read " + Where(sink));
      put.if_none_match = true;
    } else {
      Result<WriterLease> held = DecodeWriterLease(got->body);
      if (held.ok()) {
        if (std::optional<std::string> why = HeldByAnother(*held, me, now, ttl, alive)) {
          return Status::FailedPrecondition("sink " + sink.Describe() + " has another writer: " + *why +
                                            ". One writer per sink: stop it, or point this daemon at another sink (" +
                                            std::string(kWriterLeaseKey) + ")");
        }
      }
      put.if_match = got->info.etag;
    }
    Result<ObjectInfo> written = PutSync(sink, std::move(put));
    if (written.ok()) return written->etag;
    const StatusCode code = written.status().code();
    const bool transient = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
    if (code != StatusCode::kAlreadyExists && code != StatusCode::kFailedPrecondition && !transient) {
      return written.status().WithContext("write " + Where(sink));
    }
    if (transient && attempt == 3) return written.status().WithContext("write " + Where(sink));
    // Someone else wrote it in between, or the write may not have gone
    // through (our own lease read back is ours): look again.
  }
  return Status::Unavailable("sink " + sink.Describe() + ": the writer lease kept changing while taking it (" +
                             std::string(kWriterLeaseKey) + ")");
}

Status ReleaseWriterLease(ObjectStore& sink, const WriterLease& me) {
  Result<GetResult> got = GetSync(sink, GetRequest{std::string(kWriterLeaseKey), std::nullopt});
  if (!got.ok()) return got.status().code() == StatusCode::kNotFound ? Status::Ok() : got.status();
  Result<WriterLease> held = DecodeWriterLease(got->body);
  if (!held.ok() || held->host != me.host || held->pid != me.pid || held->nonce != me.nonce) return Status::Ok();
  return DeleteSync(sink, std::string(kWriterLeaseKey));
}

}  // namespace freshet
