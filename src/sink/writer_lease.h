// The sink's writer lease: which daemon writes it, so a second one is
// refused at start-up instead of at its first commit (SPEC §3: one writer
// per sink). CURRENT's compare-and-swap (commit/commit_plan.h) is what
// keeps the watermark from moving backwards; the lease is what names the
// writer and stops a second daemon before it builds anything.
//
// `_freshet/writer.json` holds the holder (host, pid, a random nonce), when
// it took the sink and when it last renewed. Every write of it is
// conditional (If-None-Match to create, If-Match on the ETag read), so two
// daemons racing for a free sink get one winner. A lease is held while
//   - its holder renewed it within `ttl`, and
//   - on this same host, its process is still alive (a crashed daemon's
//     lease does not block its own restart).
// The holder renews it every ttl / 3 and deletes it on a clean exit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "freshet/status.h"
#include "freshet/time.h"
#include "storage/object_store.h"

namespace freshet {

inline constexpr std::string_view kWriterLeaseKey = "_freshet/writer.json";

struct WriterLease {
  std::string host;
  int64_t pid = 0;
  std::string nonce;  // tells apart two runs that got the same pid
  TimePoint since{};
  TimePoint renewed{};
  std::string Holder() const { return host + " pid " + std::to_string(pid); }
  friend bool operator==(const WriterLease&, const WriterLease&) = default;
};

// Deterministic JSON, one line; strict decoding (kDataLoss naming the key).
std::string EncodeWriterLease(const WriterLease& lease);
Result<WriterLease> DecodeWriterLease(std::string_view json);

// This process: gethostname(), getpid(), a random nonce, `now`.
WriterLease ThisWriter(TimePoint now);

// Whether `pid` is a live process on this host.
using PidAlive = std::function<bool(int64_t pid)>;
bool ProcessAlive(int64_t pid);

// nullopt when `lease` no longer holds the sink for anyone but `me`; else
// why it does ("held by host pid 123 since ..., renewed 4s ago").
std::optional<std::string> HeldByAnother(const WriterLease& lease, const WriterLease& me, TimePoint now, std::chrono::milliseconds ttl,
                                         const PidAlive& alive);

// Takes the lease for `me` (blocking: REQUIRES a thread the store does not
// need, see storage/blocking_store.h). Returns the lease object's ETag, for
// renewing. kFailedPrecondition naming the sink and the other writer when
// it is held; the store's errors otherwise. A damaged lease object is
// taken over (it names no one).
Result<std::string> AcquireWriterLease(ObjectStore& sink, const WriterLease& me, TimePoint now, std::chrono::milliseconds ttl,
                                       const PidAlive& alive = ProcessAlive);

// Deletes the lease when it is still `me`'s (blocking); a lease another
// writer took meanwhile is left alone.
Status ReleaseWriterLease(ObjectStore& sink, const WriterLease& me);

}  // namespace freshet
