// FaultStore: an ObjectStore decorator that injects faults into the calls
// it forwards, for tests of everything above the store (the pipeline's
// batch retry, the reader, the S3 store's callers).
//
//   auto faults = std::make_shared<FaultStore>(std::make_shared<MemoryStore>(), /*seed=*/7);
//   FaultOptions o;
//   o.put.error_rate = 0.1;          // 10% of puts fail before reaching the store
//   o.put.lost_response_rate = 0.05; // 5% of puts succeed, but the caller hears kUnavailable
//   o.get.stall_rate = 0.02;         // 2% of gets complete 200 ms late
//   o.get.stall = std::chrono::milliseconds(200);
//   faults->SetOptions(o);
//   faults->FailNthCall(3, StoreOp::kPut);  // and the third put from now, whatever the rates say
//   ...
//   EXPECT_GT(faults->counters().errors(), 0u);
//
// Faults, in the order they are decided for one call:
// 1. Error: the call fails with FaultSpec::error_code ("injected fault: ...")
//    before the inner store sees it; nothing changes in the inner store.
// 2. Lost response (Put and Delete only): the inner call runs and succeeds,
//    then the caller gets kUnavailable ("injected fault: lost response
//    ..."), as when a connection drops after the server committed. A retry
//    then finds the object already there: a plain put overwrites it, an
//    If-None-Match put gets kAlreadyExists, a delete succeeds again. An
//    inner failure is passed through unchanged (no response to lose).
// 3. Stall: the completion (whatever its result, injected error included)
//    is delayed by FaultSpec::stall. The inner call itself runs at once;
//    only the callback waits, on FaultStore's own timer thread (never a
//    sleep on the caller's thread).
//
// Determinism: each decision for the k-th call of an operation kind is a
// pure function of (seed, kind, k, fault type), so a single-threaded
// sequence of calls sees the same faults on every run, and a concurrent
// one sees the same number of faults per kind (only which concurrent call
// gets them may vary). One-shot rules (AddRule and its shorthands) apply
// on top of the rates.
//
// Threading: every method is thread-safe; options and rules may change
// while calls are in flight (a call uses the options at its entry).
// Callbacks run outside FaultStore's lock: inline on the inner store's
// completion thread, or on the timer thread for stalled calls. Destroying
// the FaultStore completes every still-stalled call at once (on the timer
// thread, before the destructor returns), so every call still completes
// exactly once. REQUIRES: the inner store completes its calls before the
// FaultStore is destroyed (true of MemoryStore and LocalStore, which
// complete inline).
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/object_store.h"

namespace freshet {

enum class StoreOp : int { kList = 0, kGet = 1, kHead = 2, kPut = 3, kDelete = 4 };
inline constexpr size_t kStoreOpCount = 5;
// "list", "get", "head", "put", "delete".
std::string_view StoreOpName(StoreOp op);

// Faults for one operation kind. Rates are probabilities in [0, 1].
struct FaultSpec {
  // Fraction of calls failed before they reach the inner store. Default: 0.
  double error_rate = 0;
  // The code of injected errors. Default: kUnavailable (retryable).
  StatusCode error_code = StatusCode::kUnavailable;
  // Put and Delete only: fraction of successful inner calls whose success
  // is replaced by kUnavailable. Ignored for other kinds. Default: 0.
  double lost_response_rate = 0;
  // Fraction of calls whose completion is delayed by `stall`. Default: 0.
  double stall_rate = 0;
  std::chrono::milliseconds stall{0};
};

struct FaultOptions {
  FaultSpec list, get, head, put, del;

  FaultSpec& For(StoreOp op);
  const FaultSpec& For(StoreOp op) const;
  // Sets error_rate (and leaves everything else) for all five kinds.
  FaultOptions& WithErrorRate(double rate);
};

// What FaultStore did, per operation kind.
struct OpFaultCounters {
  uint64_t calls = 0;           // calls made to the FaultStore
  uint64_t errors = 0;          // failed before reaching the inner store
  uint64_t lost_responses = 0;  // inner call succeeded, caller told kUnavailable
  uint64_t stalls = 0;          // completions delayed
  friend bool operator==(const OpFaultCounters&, const OpFaultCounters&) = default;
};

struct FaultCounters {
  std::array<OpFaultCounters, kStoreOpCount> ops{};

  const OpFaultCounters& operator[](StoreOp op) const { return ops[static_cast<size_t>(op)]; }
  uint64_t calls() const;
  uint64_t errors() const;
  uint64_t lost_responses() const;
  uint64_t stalls() const;
  // Calls whose caller saw an injected failure: errors + lost_responses.
  uint64_t failed_calls() const { return errors() + lost_responses(); }
  // "list 12 calls 1 errors; put 30 calls 2 errors 1 lost 0 stalls; ...".
  std::string ToString() const;
  friend bool operator==(const FaultCounters&, const FaultCounters&) = default;
};

class FaultStore final : public ObjectStore {
 public:
  // Forwards to `inner` (shared, so a test can keep its own handle on the
  // backend to inspect or seed it without faults). No faults until
  // SetOptions or a *NthCall rule.
  explicit FaultStore(std::shared_ptr<ObjectStore> inner, uint64_t seed = 1);
  ~FaultStore() override;
  FaultStore(const FaultStore&) = delete;
  FaultStore& operator=(const FaultStore&) = delete;

  void SetOptions(const FaultOptions& options);
  FaultOptions options() const;
  // Back to no faults: default options, armed rules dropped. Counters stay.
  void ClearFaults();

  // One-shot rules: a fault for the nth call from now (1 = the next one)
  // that matches `op` (any kind when nullopt) and `key_prefix` (the key,
  // or a List's prefix, starts with it; "" matches all). The rule fires
  // once, then is gone. Its fault happens whatever the rates drew for that
  // call (a rate-drawn error does not pre-empt an armed lost response); if
  // an error rule and a lost-response rule fire on the same call, the
  // error wins.
  struct Rule {
    enum class Kind { kError, kLostResponse, kStall };
    Kind kind = Kind::kError;
    std::optional<StoreOp> op;
    uint64_t nth = 1;
    std::string key_prefix;
    StatusCode code = StatusCode::kUnavailable;  // kError
    std::chrono::milliseconds delay{0};          // kStall
  };
  // REQUIRES: nth >= 1; kLostResponse only with op kPut or kDelete.
  void AddRule(Rule rule);
  // Shorthands. FailNthCall: the call fails with `code` before reaching
  // the inner store.
  void FailNthCall(uint64_t nth, std::optional<StoreOp> op = std::nullopt,
                   StatusCode code = StatusCode::kUnavailable);
  // LoseNthResponse: the call runs, and if it succeeds the caller gets
  // kUnavailable. REQUIRES: op is kPut or kDelete.
  void LoseNthResponse(uint64_t nth, StoreOp op, std::string key_prefix = "");
  // StallNthCall: the call's completion is delayed by `delay`.
  void StallNthCall(uint64_t nth, std::optional<StoreOp> op, std::chrono::milliseconds delay);
  // Rules armed and not fired yet.
  size_t pending_rules() const;

  FaultCounters counters() const;
  // Completions currently held back by stalls.
  size_t stalled_now() const;

  void List(ListRequest req, StoreCallback<ListPage> done) override;
  void Get(GetRequest req, StoreCallback<GetResult> done) override;
  void Head(std::string key, StoreCallback<ObjectInfo> done) override;
  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override;
  void Delete(std::string key, StoreCallback<Unit> done) override;
  // "faults(<inner's Describe()>)".
  std::string Describe() const override;
  Result<uint64_t> RemoveAbandonedWrites() override { return inner_->RemoveAbandonedWrites(); }

 private:
  struct ArmedRule {
    Rule rule;
    uint64_t remaining;  // matching calls until it fires; fires at 1
  };
  // What was decided for one call at its entry.
  struct Decision {
    std::optional<Status> error;
    bool lose_response = false;
    std::chrono::milliseconds stall{0};  // 0 = complete at once
  };
  struct Delayed {
    std::chrono::steady_clock::time_point due;
    uint64_t seq;  // FIFO among equal deadlines
    std::function<void()> complete;
  };

  // `key`: the call's key, or a List's prefix.
  Decision Decide(StoreOp op, std::string_view key);
  // Runs `complete` now, or after `stall` on the timer thread.
  void Finish(std::chrono::milliseconds stall, std::function<void()> complete);
  void TimerLoop();

  // Wraps the result of a call: lost-response replacement, then delivery.
  template <typename T>
  StoreCallback<T> Wrap(StoreOp op, std::string what, const Decision& d, StoreCallback<T> done);

  const std::shared_ptr<ObjectStore> inner_;
  const uint64_t seed_;

  mutable std::mutex mu_;
  // Guarded by mu_:
  FaultOptions options_;
  std::vector<ArmedRule> rules_;
  std::array<uint64_t, kStoreOpCount> seen_{};  // calls per kind, the k in the decisions
  FaultCounters counters_;
  std::vector<Delayed> delayed_;  // a min-heap on (due, seq)
  uint64_t delayed_seq_ = 0;
  bool stopping_ = false;
  std::condition_variable timer_cv_;
  std::thread timer_;  // started by the first stall
};

}  // namespace freshet
