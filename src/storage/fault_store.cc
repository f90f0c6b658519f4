#include "storage/fault_store.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace freshet {
namespace {

// The independent decision streams of one call.
enum class Stream : uint64_t { kError = 1, kLostResponse = 2, kStall = 3 };

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform draw in [0, 1) for the k-th call of `op`: a pure function of
// its inputs, so the same call sequence sees the same faults.
double Draw(uint64_t seed, StoreOp op, uint64_t k, Stream stream) {
  uint64_t h = SplitMix64(seed);
  h = SplitMix64(h ^ static_cast<uint64_t>(op));
  h = SplitMix64(h ^ k);
  h = SplitMix64(h ^ static_cast<uint64_t>(stream));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

bool Hit(double rate, uint64_t seed, StoreOp op, uint64_t k, Stream stream) {
  return rate > 0 && Draw(seed, op, k, stream) < rate;
}

bool HasResponseToLose(StoreOp op) { return op == StoreOp::kPut || op == StoreOp::kDelete; }

}  // namespace

std::string_view StoreOpName(StoreOp op) {
  switch (op) {
    case StoreOp::kList: return "list";
    case StoreOp::kGet: return "get";
    case StoreOp::kHead: return "head";
    case StoreOp::kPut: return "put";
    case StoreOp::kDelete: return "delete";
  }
  return "?";
}

FaultSpec& FaultOptions::For(StoreOp op) {
  switch (op) {
    case StoreOp::kList: return list;
    case StoreOp::kGet: return get;
    case StoreOp::kHead: return head;
    case StoreOp::kPut: return put;
    case StoreOp::kDelete: return del;
  }
  return list;
}

const FaultSpec& FaultOptions::For(StoreOp op) const { return const_cast<FaultOptions*>(this)->For(op); }

FaultOptions& FaultOptions::WithErrorRate(double rate) {
  for (FaultSpec* s : {&list, &get, &head, &put, &del}) s->error_rate = rate;
  return *this;
}

uint64_t FaultCounters::calls() const {
  uint64_t n = 0;
  for (const auto& o : ops) n += o.calls;
  return n;
}
uint64_t FaultCounters::errors() const {
  uint64_t n = 0;
  for (const auto& o : ops) n += o.errors;
  return n;
}
uint64_t FaultCounters::lost_responses() const {
  uint64_t n = 0;
  for (const auto& o : ops) n += o.lost_responses;
  return n;
}
uint64_t FaultCounters::stalls() const {
  uint64_t n = 0;
  for (const auto& o : ops) n += o.stalls;
  return n;
}

std::string FaultCounters::ToString() const {
  std::string out;
  for (size_t i = 0; i < kStoreOpCount; ++i) {
    const OpFaultCounters& o = ops[i];
    if (!out.empty()) out += "; ";
    out += std::string(StoreOpName(static_cast<StoreOp>(i))) + " " + std::to_string(o.calls) + " calls " +
           std::to_string(o.errors) + " errors " + std::to_string(o.lost_responses) + " lost " +
           std::to_string(o.stalls) + " stalls";
  }
  return out;
}

FaultStore::FaultStore(std::shared_ptr<ObjectStore> inner, uint64_t seed) : inner_(std::move(inner)), seed_(seed) {
  assert(inner_ != nullptr);
}

FaultStore::~FaultStore() {
  std::thread timer;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    timer = std::move(timer_);
  }
  timer_cv_.notify_all();
  // The timer thread completes whatever is still stalled before it ends.
  if (timer.joinable()) timer.join();
}

void FaultStore::SetOptions(const FaultOptions& options) {
  std::lock_guard lock(mu_);
  options_ = options;
}

FaultOptions FaultStore::options() const {
  std::lock_guard lock(mu_);
  return options_;
}

void FaultStore::ClearFaults() {
  std::lock_guard lock(mu_);
  options_ = FaultOptions{};
  rules_.clear();
}

void FaultStore::AddRule(Rule rule) {
  assert(rule.nth >= 1);
  assert(rule.kind != Rule::Kind::kLostResponse || (rule.op && HasResponseToLose(*rule.op)));
  std::lock_guard lock(mu_);
  uint64_t nth = std::max<uint64_t>(rule.nth, 1);
  rules_.push_back(ArmedRule{std::move(rule), nth});
}

void FaultStore::FailNthCall(uint64_t nth, std::optional<StoreOp> op, StatusCode code) {
  AddRule(Rule{.kind = Rule::Kind::kError, .op = op, .nth = nth, .code = code});
}

void FaultStore::LoseNthResponse(uint64_t nth, StoreOp op, std::string key_prefix) {
  AddRule(Rule{.kind = Rule::Kind::kLostResponse, .op = op, .nth = nth, .key_prefix = std::move(key_prefix)});
}

void FaultStore::StallNthCall(uint64_t nth, std::optional<StoreOp> op, std::chrono::milliseconds delay) {
  AddRule(Rule{.kind = Rule::Kind::kStall, .op = op, .nth = nth, .delay = delay});
}

size_t FaultStore::pending_rules() const {
  std::lock_guard lock(mu_);
  return rules_.size();
}

FaultCounters FaultStore::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

size_t FaultStore::stalled_now() const {
  std::lock_guard lock(mu_);
  return delayed_.size();
}

std::string FaultStore::Describe() const { return "faults(" + inner_->Describe() + ")"; }

FaultStore::Decision FaultStore::Decide(StoreOp op, std::string_view key) {
  std::lock_guard lock(mu_);
  const size_t i = static_cast<size_t>(op);
  const uint64_t k = ++seen_[i];
  OpFaultCounters& c = counters_.ops[i];
  ++c.calls;
  const FaultSpec& spec = options_.For(op);

  Decision d;
  // A flag beside the code, not a std::optional: GCC 12 at -O1 reports the
  // optional's payload as maybe-uninitialized where it is read below.
  bool error = false;
  StatusCode error_code = spec.error_code;
  if (Hit(spec.error_rate, seed_, op, k, Stream::kError)) error = true;
  if (HasResponseToLose(op) && Hit(spec.lost_response_rate, seed_, op, k, Stream::kLostResponse)) {
    d.lose_response = true;
  }
  if (Hit(spec.stall_rate, seed_, op, k, Stream::kStall)) d.stall = spec.stall;
  // One-shot rules. A rule's error or lost response replaces what the
  // rates drew for this call, so an armed fault always happens.
  std::optional<StatusCode> rule_error;
  bool rule_lose = false;
  for (auto it = rules_.begin(); it != rules_.end();) {
    const Rule& rule = it->rule;
    bool matches = (!rule.op || *rule.op == op) && key.starts_with(rule.key_prefix);
    if (!matches || --it->remaining > 0) {
      ++it;
      continue;
    }
    switch (rule.kind) {
      case Rule::Kind::kError: rule_error = rule.code; break;
      case Rule::Kind::kLostResponse: rule_lose = true; break;
      case Rule::Kind::kStall: d.stall = std::max(d.stall, rule.delay); break;
    }
    it = rules_.erase(it);
  }
  if (rule_error) {
    error = true;
    error_code = *rule_error;
  } else if (rule_lose) {
    error = false;
    d.lose_response = true;
  }
  if (error) {
    // The call never reaches the store: there is no response to lose.
    d.lose_response = false;
    std::string what = op == StoreOp::kList ? "prefix \"" + std::string(key) + "\"" : std::string(key);
    d.error = Status(error_code, "injected fault: " + std::string(StoreOpName(op)) + " " + what + " (call " +
                                      std::to_string(k) + ")");
    ++c.errors;
  }
  if (d.stall.count() > 0) ++c.stalls;
  return d;
}

void FaultStore::Finish(std::chrono::milliseconds stall, std::function<void()> complete) {
  if (stall.count() <= 0) {
    complete();
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      if (!timer_.joinable()) timer_ = std::thread([this] { TimerLoop(); });
      delayed_.push_back(Delayed{std::chrono::steady_clock::now() + stall, delayed_seq_++, std::move(complete)});
      std::push_heap(delayed_.begin(), delayed_.end(), [](const Delayed& a, const Delayed& b) {
        return a.due != b.due ? a.due > b.due : a.seq > b.seq;
      });
      timer_cv_.notify_all();
      return;
    }
  }
  // Being destroyed (a call that broke the REQUIRES): complete at once.
  complete();
}

void FaultStore::TimerLoop() {
  auto later = [](const Delayed& a, const Delayed& b) { return a.due != b.due ? a.due > b.due : a.seq > b.seq; };
  std::unique_lock lock(mu_);
  for (;;) {
    std::vector<std::function<void()>> ready;
    auto now = std::chrono::steady_clock::now();
    while (!delayed_.empty() && (stopping_ || delayed_.front().due <= now)) {
      std::pop_heap(delayed_.begin(), delayed_.end(), later);
      ready.push_back(std::move(delayed_.back().complete));
      delayed_.pop_back();
    }
    if (!ready.empty()) {
      // Callbacks may call the store again: never under the lock.
      lock.unlock();
      for (auto& complete : ready) complete();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (delayed_.empty()) {
      timer_cv_.wait(lock);
    } else {
      // A copy: wait_until reads its deadline again after waking, and
      // delayed_ may have been reallocated by a push in the meantime.
      const auto due = delayed_.front().due;
      timer_cv_.wait_until(lock, due);
    }
  }
}

template <typename T>
StoreCallback<T> FaultStore::Wrap(StoreOp op, std::string what, const Decision& d, StoreCallback<T> done) {
  return [this, op, what = std::move(what), lose = d.lose_response, stall = d.stall,
          done = std::move(done)](Result<T> r) mutable {
    if (lose && r.ok()) {
      {
        std::lock_guard lock(mu_);
        ++counters_.ops[static_cast<size_t>(op)].lost_responses;
      }
      r = Status::Unavailable("injected fault: lost response after successful " + std::string(StoreOpName(op)) +
                              " " + what);
    }
    Finish(stall, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  };
}

void FaultStore::List(ListRequest req, StoreCallback<ListPage> done) {
  Decision d = Decide(StoreOp::kList, req.prefix);
  std::string what = "prefix \"" + req.prefix + "\"";
  if (d.error) return Finish(d.stall, [done = std::move(done), st = *d.error] { done(st); });
  inner_->List(std::move(req), Wrap<ListPage>(StoreOp::kList, std::move(what), d, std::move(done)));
}

void FaultStore::Get(GetRequest req, StoreCallback<GetResult> done) {
  Decision d = Decide(StoreOp::kGet, req.key);
  if (d.error) return Finish(d.stall, [done = std::move(done), st = *d.error] { done(st); });
  std::string what = req.key;
  inner_->Get(std::move(req), Wrap<GetResult>(StoreOp::kGet, std::move(what), d, std::move(done)));
}

void FaultStore::Head(std::string key, StoreCallback<ObjectInfo> done) {
  Decision d = Decide(StoreOp::kHead, key);
  if (d.error) return Finish(d.stall, [done = std::move(done), st = *d.error] { done(st); });
  std::string what = key;
  inner_->Head(std::move(key), Wrap<ObjectInfo>(StoreOp::kHead, std::move(what), d, std::move(done)));
}

void FaultStore::Put(PutRequest req, StoreCallback<ObjectInfo> done) {
  Decision d = Decide(StoreOp::kPut, req.key);
  if (d.error) return Finish(d.stall, [done = std::move(done), st = *d.error] { done(st); });
  std::string what = req.key;
  inner_->Put(std::move(req), Wrap<ObjectInfo>(StoreOp::kPut, std::move(what), d, std::move(done)));
}

void FaultStore::Delete(std::string key, StoreCallback<Unit> done) {
  Decision d = Decide(StoreOp::kDelete, key);
  if (d.error) return Finish(d.stall, [done = std::move(done), st = *d.error] { done(st); });
  std::string what = key;
  inner_->Delete(std::move(key), Wrap<Unit>(StoreOp::kDelete, std::move(what), d, std::move(done)));
}

}  // namespace freshet
