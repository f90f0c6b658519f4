// freshet's side of perf/s3_bench.sh: phases of an S3 workload (PUT, GET
// whole, ranged GET, LIST) through S3Store against an S3 server such as
// s3rver on loopback, each timed and printed as one result line.
// perf/s3_bench.js runs the same phases with the AWS SDK for JavaScript; the
// driver runs both side by side and prints the comparison. By hand:
//
//   s3_bench --endpoint http://127.0.0.1:PORT --phases put-small,get-small
//            [--bucket bench] [--prefix freshet/] [--concurrency 16]
//            [--small-count 2000] [--small-size 16384] [--large-count 50]
//            [--large-size 4194304] [--range-count 1000] [--range-size 65536]
//            [--list-repeats 4] [--warmup 1000]
//
// --phases is a comma-separated list of put-small, put-large, get-small,
// get-large, get-range, list, run after the warm-up. "-" reads commands from
// stdin instead, one a line, until end of input: "warmup" (answered with a
// line "warmed client=freshet ..."; do it first) or a phase name (answered
// with its result line). The driver interleaves the two clients that way.
//
// Keys: <prefix>data/small/NNNNNN and <prefix>data/large/NNNNNN (the put-*
// phases write them; get-*, get-range and list read them), and
// <prefix>warmup/NNNNNN. The warm-up, --warmup small PUTs and as many GETs,
// runs once before the phases; before each phase, --concurrency
// GETs of warm-up objects reopen any connection the server closed while the
// other client ran. Neither is measured.
//
// Concurrency: at most --concurrency operations in flight through the
// store's asynchronous callback API, on one pooled connection each
// (S3Options::max_connections = --concurrency). The first ones start from
// main(); each completion starts the next from the store's callback, so a
// phase is driven by the HTTP client's one I/O thread, as node's event loop
// drives the SDK side.
//
// Output (stdout), one line per phase:
//   result client=freshet phase=P ops=N bytes=B wall_s=W p50_ms=.. p99_ms=..
//          cpu_s=C requests=R retries=0 errors=0 conns=K
// ops counts successful operations (for list: pages); latencies are per
// operation (per page). cpu_s is getrusage(RUSAGE_SELF) user + system over
// the phase (all threads); requests and retries are the phase's attempts and
// retries of its S3 operation from S3Store::stats(); conns counts the
// connections opened during the phase. Exit status: 0, 1 if an operation
// failed, 2 for bad arguments or a store that cannot open.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "freshet/status.h"
#include "storage/object_store.h"
#include "storage/s3/credentials.h"
#include "storage/s3/s3_store.h"

namespace freshet {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string endpoint;
  std::string bucket = "bench";
  std::string prefix = "freshet/";
  std::string phases;
  uint32_t concurrency = 16;
  uint64_t small_count = 2000;
  uint64_t small_size = 16384;
  uint64_t large_count = 50;
  uint64_t large_size = 4 << 20;
  uint64_t range_count = 1000;
  uint64_t range_size = 65536;
  uint64_t list_repeats = 4;
  uint64_t warmup = 1000;
};

constexpr std::string_view kPhases[] = {"put-small", "put-large", "get-small", "get-large", "get-range", "list"};

// "" if `phase` can run with these arguments, else why not.
std::string CheckPhase(const BenchArgs& a, std::string_view phase) {
  if (std::find(std::begin(kPhases), std::end(kPhases), phase) == std::end(kPhases))
    return "unknown phase '" + std::string(phase) +
           "' (put-small, put-large, get-small, get-large, get-range or list)";
  if (phase == "get-range" && a.large_count == 0) return "get-range needs --large-count > 0";
  return "";
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return out;
}

// Parses "--name value" pairs. Returns an error message, "" when fine.
std::string ParseArgs(int argc, char** argv, BenchArgs* a) {
  uint64_t concurrency = a->concurrency;
  const std::map<std::string_view, uint64_t*> numbers = {
      {"--concurrency", &concurrency},    {"--small-count", &a->small_count},   {"--small-size", &a->small_size},
      {"--large-count", &a->large_count}, {"--large-size", &a->large_size},     {"--range-count", &a->range_count},
      {"--range-size", &a->range_size},   {"--list-repeats", &a->list_repeats}, {"--warmup", &a->warmup}};
  const std::map<std::string_view, std::string*> strings = {
      {"--endpoint", &a->endpoint}, {"--bucket", &a->bucket}, {"--prefix", &a->prefix}, {"--phases", &a->phases}};
  for (int i = 1; i < argc; i += 2) {
    std::string_view name = argv[i];
    if (i + 1 >= argc) return std::string(name) + " needs a value";
    std::string value = argv[i + 1];
    if (auto n = numbers.find(name); n != numbers.end()) {
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0)
        return std::string(name) + " wants a non-negative integer, got '" + value + "'";
      *n->second = v;
    } else if (auto s = strings.find(name); s != strings.end()) {
      *s->second = value;
    } else {
      return "unknown argument '" + std::string(name) + "'";
    }
  }
  if (a->endpoint.empty()) return "--endpoint is required";
  if (a->phases.empty()) return "--phases is required";
  if (concurrency < 1 || concurrency > 1024) return "--concurrency must be 1..1024";
  a->concurrency = static_cast<uint32_t>(concurrency);
  if (a->range_size < 1 || a->range_size > a->large_size) return "--range-size must be 1..--large-size";
  if (a->phases != "-") {
    for (const std::string& phase : SplitCommas(a->phases)) {
      if (std::string why = CheckPhase(*a, phase); !why.empty()) return why;
    }
  }
  return "";
}

// Keys, bodies and ranges: exactly as in s3_bench.js.
std::string Numbered(std::string_view dir, uint64_t i) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(i));
  return std::string(dir) + digits;
}

// xorshift32 from seed 1, the low byte of each step.
std::string BaseBody(uint64_t size) {
  std::string b(size, '\0');
  uint32_t x = 1;
  for (char& c : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return b;
}

// A copy of `base` with the object's index in its first 8 bytes, made per
// request (the SDK side copies too), so that no two objects are the same.
std::string BodyFor(const std::string& base, uint64_t i) {
  std::string b = base;
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%08llu", static_cast<unsigned long long>(i));
  size_t n = std::min<size_t>(8, b.size());
  b.replace(0, n, stamp, n);
  return b;
}

struct RangeOf {
  uint64_t object;
  uint64_t offset;
};
RangeOf RangeFor(const BenchArgs& a, uint64_t i) {
  uint64_t slots = a.large_size / a.range_size;
  return {i % a.large_count, ((i * 37) % slots) * a.range_size};
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));  // nearest rank
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Runs operations 0..total-1 with at most `concurrency` in flight. An
// operation is started by `start(i, done)` and reports through done(status,
// bytes) exactly once, on any thread; that call starts the next operation
// (on the reporting thread) before counting this one complete, so Run()
// returns only when no callback can touch the window any more.
class Window {
 public:
  using Done = std::function<void(Status, uint64_t bytes)>;
  using Start = std::function<void(uint64_t i, Done done)>;

  struct Outcome {
    std::vector<double> latency_ms;  // successful operations only
    uint64_t bytes = 0;
    uint64_t errors = 0;
    std::string first_error;
  };

  Window(uint64_t total, uint32_t concurrency, Start start)
      : total_(total), concurrency_(concurrency), start_(std::move(start)), started_at_(total) {
    outcome_.latency_ms.reserve(total);
  }

  Outcome Run() {
    uint64_t first = std::min<uint64_t>(total_, concurrency_);
    for (uint64_t n = 0; n < first; ++n) StartNext();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return completed_ == total_; });
    return std::move(outcome_);
  }

 private:
  void StartNext() {
    uint64_t i = next_.fetch_add(1);
    if (i >= total_) return;
    started_at_[i] = Clock::now();
    start_(i, [this, i](Status st, uint64_t bytes) { OnDone(i, std::move(st), bytes); });
  }

  void OnDone(uint64_t i, Status st, uint64_t bytes) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_at_[i]).count();
    {
      std::lock_guard lock(mu_);
      if (st.ok()) {
        outcome_.latency_ms.push_back(ms);
        outcome_.bytes += bytes;
      } else if (outcome_.errors++ == 0) {
        outcome_.first_error = "#" + std::to_string(i) + ": " + st.ToString();
      }
    }
    StartNext();
    std::lock_guard lock(mu_);
    if (++completed_ == total_) cv_.notify_all();
  }

  const uint64_t total_;
  const uint32_t concurrency_;
  const Start start_;
  std::atomic<uint64_t> next_{0};
  std::vector<Clock::time_point> started_at_;  // slot i written before op i starts

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t completed_ = 0;  // guarded by mu_
  Outcome outcome_;         // guarded by mu_
};

// One whole listing of a prefix, page by page: ListFrom() asks for the page
// after `token`, reports its latency to page_done, and calls listing_done
// once the last page is in (or a page failed).
struct Listing {
  ObjectStore* store;
  std::string prefix;
  uint64_t keys = 0;
};

void ListFrom(std::shared_ptr<Listing> listing, std::string token, std::function<void(Status, double ms)> page_done,
              std::function<void(Status)> listing_done) {
  ListRequest req;
  req.prefix = listing->prefix;
  req.continuation_token = std::move(token);
  req.max_keys = 1000;
  ObjectStore* store = listing->store;
  const Clock::time_point sent = Clock::now();
  store->List(std::move(req), [listing, sent, page_done = std::move(page_done),
                               listing_done = std::move(listing_done)](Result<ListPage> page) mutable {
    page_done(page.status(), std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    if (!page.ok()) return listing_done(page.status());
    listing->keys += page->objects.size();
    if (page->next_continuation_token.empty()) return listing_done(Status::Ok());
    ListFrom(listing, std::move(page->next_continuation_token), std::move(page_done), std::move(listing_done));
  });
}

class Bench {
 public:
  Bench(BenchArgs args, std::unique_ptr<S3Store> store)
      : a_(std::move(args)),
        store_(std::move(store)),
        small_base_(BaseBody(a_.small_size)),
        small_dir_(a_.prefix + "data/small/"),
        large_dir_(a_.prefix + "data/large/"),
        warmup_dir_(a_.prefix + "warmup/") {}

  // Warm-up PUTs and GETs of small objects; false (with a message on
  // stderr) if one failed. `announce`: print a "warmed" line when done.
  bool WarmUp(bool announce) {
    const Clock::time_point t0 = Clock::now();
    Window::Outcome put = Window(a_.warmup, a_.concurrency, Put(warmup_dir_, small_base_)).Run();
    Window::Outcome get = Window(a_.warmup, a_.concurrency, Get(warmup_dir_, a_.small_size)).Run();
    if (put.errors + get.errors != 0) {
      std::fprintf(stderr, "s3_bench: warm-up failed: %s\n", (put.errors ? put : get).first_error.c_str());
      return false;
    }
    if (announce) {
      std::printf("warmed client=freshet ops=%llu wall_s=%.4f\n", static_cast<unsigned long long>(2 * a_.warmup),
                  std::chrono::duration<double>(Clock::now() - t0).count());
      std::fflush(stdout);
    }
    return true;
  }

  // Runs one phase and prints its result line; false if an operation failed.
  // REQUIRES: CheckPhase(args, phase) is "".
  bool RunPhase(const std::string& phase) {
    // Reopen connections the server closed as idle (s3rver: after 5 s).
    (void)Window(std::min<uint64_t>(a_.warmup, a_.concurrency), a_.concurrency, Get(warmup_dir_, a_.small_size)).Run();

    std::string op = "GetObject";
    if (phase.starts_with("put-")) op = "PutObject";
    if (phase == "list") op = "ListObjectsV2";
    if (phase == "put-large" && large_base_.empty()) large_base_ = BaseBody(a_.large_size);

    const S3Stats before = store_->stats();
    const double cpu0 = CpuSeconds();
    const Clock::time_point t0 = Clock::now();
    Window::Outcome out;
    if (phase == "put-small") out = Window(a_.small_count, a_.concurrency, Put(small_dir_, small_base_)).Run();
    if (phase == "put-large") out = Window(a_.large_count, a_.concurrency, Put(large_dir_, large_base_)).Run();
    if (phase == "get-small") out = Window(a_.small_count, a_.concurrency, Get(small_dir_, a_.small_size)).Run();
    if (phase == "get-large") out = Window(a_.large_count, a_.concurrency, Get(large_dir_, a_.large_size)).Run();
    if (phase == "get-range") out = Window(a_.range_count, a_.concurrency, GetRange()).Run();
    if (phase == "list") out = RunListings();
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = CpuSeconds() - cpu0;
    const S3Stats after = store_->stats();

    auto op_stats = [&](const S3Stats& s) {
      auto it = s.operations.find(op);
      return it == s.operations.end() ? S3OperationStats{} : it->second;
    };
    const S3OperationStats b = op_stats(before), e = op_stats(after);
    if (out.errors != 0) std::fprintf(stderr, "s3_bench: %s %s\n", phase.c_str(), out.first_error.c_str());
    std::sort(out.latency_ms.begin(), out.latency_ms.end());
    std::printf(
        "result client=freshet phase=%s ops=%zu bytes=%llu wall_s=%.4f p50_ms=%.3f p99_ms=%.3f cpu_s=%.4f "
        "requests=%llu retries=%llu errors=%llu conns=%llu\n",
        phase.c_str(), out.latency_ms.size(), static_cast<unsigned long long>(out.bytes), wall,
        Percentile(out.latency_ms, 50), Percentile(out.latency_ms, 99), cpu,
        static_cast<unsigned long long>(e.attempts - b.attempts),
        static_cast<unsigned long long>(e.retries - b.retries), static_cast<unsigned long long>(out.errors),
        static_cast<unsigned long long>(after.http.connections_opened - before.http.connections_opened));
    std::fflush(stdout);
    return out.errors == 0;
  }

 private:
  Window::Start Put(const std::string& dir, const std::string& base) {
    return [this, &dir, &base](uint64_t i, Window::Done done) {
      uint64_t size = base.size();
      store_->Put(PutRequest{Numbered(dir, i), BodyFor(base, i)},
                  [done = std::move(done), size](Result<ObjectInfo> r) { done(r.status(), size); });
    };
  }

  // Completes `done` with the body's size, or kDataLoss if it is not `want`.
  static StoreCallback<GetResult> Expect(uint64_t want, Window::Done done) {
    return [want, done = std::move(done)](Result<GetResult> r) {
      if (!r.ok()) return done(r.status(), 0);
      if (r->body.size() != want)
        return done(Status::DataLoss(std::to_string(r->body.size()) + " bytes, expected " + std::to_string(want)), 0);
      done(Status::Ok(), want);
    };
  }

  Window::Start Get(const std::string& dir, uint64_t want) {
    return [this, &dir, want](uint64_t i, Window::Done done) {
      store_->Get(GetRequest{Numbered(dir, i), std::nullopt}, Expect(want, std::move(done)));
    };
  }

  Window::Start GetRange() {
    return [this](uint64_t i, Window::Done done) {
      RangeOf r = RangeFor(a_, i);
      store_->Get(GetRequest{Numbered(large_dir_, r.object), ByteRange{r.offset, a_.range_size}},
                  Expect(a_.range_size, std::move(done)));
    };
  }

  // --list-repeats whole listings of <prefix>data/, up to --concurrency of
  // them side by side. The outcome's operations are pages.
  Window::Outcome RunListings() {
    const uint64_t want = a_.small_count + a_.large_count;
    std::mutex mu;
    std::vector<double> pages;  // guarded by mu
    auto page_done = [&mu, &pages](Status st, double ms) {
      std::lock_guard lock(mu);
      if (st.ok()) pages.push_back(ms);
    };
    Window::Outcome out = Window(a_.list_repeats, a_.concurrency, [&](uint64_t i, Window::Done done) {
                            auto listing = std::make_shared<Listing>(Listing{store_.get(), a_.prefix + "data/"});
                            ListFrom(listing, "", page_done, [done = std::move(done), listing, want, i](Status st) {
                              if (st.ok() && listing->keys != want)
                                st = Status::DataLoss("listing " + std::to_string(i) + ": " +
                                                      std::to_string(listing->keys) + " keys, expected " +
                                                      std::to_string(want));
                              done(std::move(st), 0);
                            });
                          }).Run();
    std::lock_guard lock(mu);  // every page_done ran before its listing completed
    out.latency_ms = std::move(pages);
    return out;
  }

  const BenchArgs a_;
  const std::unique_ptr<S3Store> store_;
  const std::string small_base_;
  std::string large_base_;  // made by the first put-large
  const std::string small_dir_, large_dir_, warmup_dir_;
};

int Main(int argc, char** argv) {
  BenchArgs a;
  if (std::string error = ParseArgs(argc, argv, &a); !error.empty()) {
    std::fprintf(stderr, "s3_bench: %s (see the comment at the top of perf/s3_bench.cc)\n", error.c_str());
    return 2;
  }
  S3Options o;
  o.endpoint = a.endpoint;
  o.region = "us-east-1";
  o.addressing = "path";
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  o.max_connections = a.concurrency;
  // No environment: AWS_* variables of whoever runs the bench must not
  // redirect it.
  s3::EnvLookup no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto store = S3Store::Open("s3://" + a.bucket, o, no_env);
  if (!store.ok()) {
    std::fprintf(stderr, "s3_bench: %s\n", store.status().ToString().c_str());
    return 2;
  }
  Bench bench(a, std::move(store).value());

  bool ok = true;
  if (a.phases != "-") {
    if (!bench.WarmUp(false)) return 1;
    for (const std::string& phase : SplitCommas(a.phases)) ok = bench.RunPhase(phase) && ok;
    return ok ? 0 : 1;
  }
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    if (line == "warmup") {
      if (!bench.WarmUp(true)) return 1;
      continue;
    }
    if (std::string why = CheckPhase(a, line); !why.empty()) {
      std::fprintf(stderr, "s3_bench: %s\n", why.c_str());
      return 2;
    }
    ok = bench.RunPhase(line) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace freshet

int main(int argc, char** argv) { return freshet::Main(argc, argv); }
