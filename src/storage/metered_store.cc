// MeteredStore: counts and times each call on its completion. The metric
// objects are resolved up front (or once, on a status's first occurrence)
// so the call path only touches atomics.
#include "storage/metered_store.h"

#include <array>
#include <atomic>
#include <chrono>
#include <utility>

#include "storage/fault_store.h"

namespace freshet {
namespace {

constexpr size_t kStatusCodeCount = static_cast<size_t>(StatusCode::kInternal) + 1;

// The `status` label: StatusCodeName() is CamelCase ("NotFound"), metric
// label values are snake_case by convention.
std::string_view StatusLabel(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case StatusCode::kDataLoss: return "data_loss";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

constexpr std::string_view kRequestsName = "freshet_object_store_requests_total";
constexpr std::string_view kRequestsHelp = "Object store calls by operation and outcome (one per logical call).";
constexpr std::string_view kDurationName = "freshet_object_store_request_duration_seconds";
constexpr std::string_view kDurationHelp = "Object store call time, from the call to its completion.";
constexpr std::string_view kBytesName = "freshet_object_store_bytes_total";
constexpr std::string_view kBytesHelp = "Object bodies read (Get) and written (successful Put).";

// Shared with in-flight callbacks, which may complete after the store is
// gone (a backend cancelling its calls in its destructor).
class Meters {
 public:
  Meters(std::string role, MetricsRegistry* registry) : role_(std::move(role)), registry_(registry) {
    const std::vector<double> buckets = ExponentialBuckets(0.001, 2, 16);  // 1 ms .. ~33 s
    for (size_t op = 0; op < kStoreOpCount; ++op) {
      const std::string name(StoreOpName(static_cast<StoreOp>(op)));
      durations_[op] = &registry->GetHistogram(kDurationName, kDurationHelp, buckets,
                                               {{"store", role_}, {"operation", name}});
      // "ok" exists from the start (a dashboard's rate() sees 0, not
      // nothing); error statuses appear when they first happen.
      Requests(static_cast<StoreOp>(op), StatusCode::kOk);
    }
    read_ = &registry->GetCounter(kBytesName, kBytesHelp, {{"store", role_}, {"direction", "read"}});
    written_ = &registry->GetCounter(kBytesName, kBytesHelp, {{"store", role_}, {"direction", "written"}});
  }

  void Record(StoreOp op, StatusCode code, std::chrono::steady_clock::time_point start) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    durations_[static_cast<size_t>(op)]->Observe(took.count());
    Requests(op, code).Inc();
  }
  void Read(uint64_t n) { read_->Inc(static_cast<double>(n)); }
  void Written(uint64_t n) { written_->Inc(static_cast<double>(n)); }

 private:
  // The counter for (op, code), created in the registry on first use (the
  // registry's lock, once per pair); a racing first use resolves to the
  // same child.
  Counter& Requests(StoreOp op, StatusCode code) {
    const size_t c = static_cast<size_t>(code) < kStatusCodeCount ? static_cast<size_t>(code)
                                                                   : static_cast<size_t>(StatusCode::kInternal);
    std::atomic<Counter*>& slot = requests_[static_cast<size_t>(op)][c];
    Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = &registry_->GetCounter(kRequestsName, kRequestsHelp,
                                       {{"store", role_},
                                        {"operation", std::string(StoreOpName(op))},
                                        {"status", std::string(StatusLabel(static_cast<StatusCode>(c)))}});
      slot.store(counter, std::memory_order_release);
    }
    return *counter;
  }

  const std::string role_;
  MetricsRegistry* const registry_;
  std::array<Histogram*, kStoreOpCount> durations_{};
  std::array<std::array<std::atomic<Counter*>, kStatusCodeCount>, kStoreOpCount> requests_{};
  Counter* read_ = nullptr;
  Counter* written_ = nullptr;
};

class MeteredStore final : public ObjectStore {
 public:
  MeteredStore(std::unique_ptr<ObjectStore> inner, std::string role, MetricsRegistry* registry)
      : meters_(std::make_shared<Meters>(std::move(role), registry)), inner_(std::move(inner)) {}

  void List(ListRequest req, StoreCallback<ListPage> done) override {
    inner_->List(std::move(req), Wrap(StoreOp::kList, std::move(done)));
  }

  void Get(GetRequest req, StoreCallback<GetResult> done) override {
    inner_->Get(std::move(req), [meters = meters_, start = Now(), done = std::move(done)](Result<GetResult> r) {
      if (r.ok()) meters->Read(r->body.size());
      meters->Record(StoreOp::kGet, r.status().code(), start);
      done(std::move(r));
    });
  }

  void Head(std::string key, StoreCallback<ObjectInfo> done) override {
    inner_->Head(std::move(key), Wrap(StoreOp::kHead, std::move(done)));
  }

  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override {
    const uint64_t size = req.body_size();
    inner_->Put(std::move(req),
                [meters = meters_, start = Now(), size, done = std::move(done)](Result<ObjectInfo> r) {
                  if (r.ok()) meters->Written(size);
                  meters->Record(StoreOp::kPut, r.status().code(), start);
                  done(std::move(r));
                });
  }

  void Delete(std::string key, StoreCallback<Unit> done) override {
    inner_->Delete(std::move(key), Wrap(StoreOp::kDelete, std::move(done)));
  }

  std::string Describe() const override { return inner_->Describe(); }
  Result<uint64_t> RemoveAbandonedWrites() override { return inner_->RemoveAbandonedWrites(); }
  // Direct file reads are not store requests: nothing to count.
  std::optional<std::string> LocalPath(const std::string& key) const override { return inner_->LocalPath(key); }

 private:
  static std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }

  template <typename T>
  StoreCallback<T> Wrap(StoreOp op, StoreCallback<T> done) {
    return [meters = meters_, op, start = Now(), done = std::move(done)](Result<T> r) {
      meters->Record(op, r.status().code(), start);
      done(std::move(r));
    };
  }

  const std::shared_ptr<Meters> meters_;
  const std::unique_ptr<ObjectStore> inner_;
};

}  // namespace

std::unique_ptr<ObjectStore> MakeMeteredStore(std::unique_ptr<ObjectStore> inner, std::string role,
                                              MetricsRegistry* registry) {
  return std::make_unique<MeteredStore>(std::move(inner), std::move(role), registry);
}

}  // namespace freshet
