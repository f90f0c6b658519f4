#include "storage/fault_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

using std::chrono::milliseconds;

bool IsInjected(const Status& st) { return st.message().find("injected fault") != std::string::npos; }

class FaultStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryStore> inner_ = std::make_shared<MemoryStore>();
};

TEST_F(FaultStoreTest, WithoutFaultsForwardsEverything) {
  FaultStore store(inner_);
  ASSERT_TRUE(PutSync(store, "a/1", "one").ok());
  ASSERT_TRUE(PutSync(store, "a/2", "two").ok());
  EXPECT_EQ(GetSync(store, "a/1")->body, "one");
  GetRequest ranged{"a/2", ByteRange{1, 1}};
  EXPECT_EQ(GetSync(store, ranged)->body, "w");
  EXPECT_EQ(HeadSync(store, "a/2")->size, 3u);
  EXPECT_EQ(HeadSync(store, "zz").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(PutSync(store, "a/1", "again", true).status().code(), StatusCode::kAlreadyExists);
  auto all = ListAllSync(store, "a/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  ASSERT_TRUE(DeleteSync(store, "a/1").ok());
  EXPECT_EQ(inner_->Keys(), std::vector<std::string>{"a/2"});
  EXPECT_EQ(store.Describe(), "faults(" + inner_->Describe() + ")");

  FaultCounters c = store.counters();
  EXPECT_EQ(c[StoreOp::kPut].calls, 3u);
  EXPECT_EQ(c[StoreOp::kGet].calls, 2u);
  EXPECT_EQ(c[StoreOp::kHead].calls, 2u);
  EXPECT_EQ(c[StoreOp::kList].calls, 1u);
  EXPECT_EQ(c[StoreOp::kDelete].calls, 1u);
  EXPECT_EQ(c.calls(), 9u);
  EXPECT_EQ(c.failed_calls(), 0u);
  EXPECT_EQ(c.stalls(), 0u);
}

TEST_F(FaultStoreTest, FailNthCallOfOneKindNeverReachesTheInnerStore) {
  FaultStore store(inner_);
  ASSERT_TRUE(GetSync(store, "missing").status().code() == StatusCode::kNotFound);  // not a put: not counted
  store.FailNthCall(2, StoreOp::kPut);
  EXPECT_TRUE(PutSync(store, "k1", "v").ok());
  auto second = PutSync(store, "k2", "v");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsInjected(second.status())) << second.status().ToString();
  EXPECT_NE(second.status().message().find("put k2"), std::string::npos) << second.status().ToString();
  EXPECT_TRUE(PutSync(store, "k3", "v").ok());  // one-shot
  EXPECT_EQ(inner_->Keys(), (std::vector<std::string>{"k1", "k3"}));
  EXPECT_EQ(inner_->call_counts().put, 2u);
  EXPECT_EQ(store.counters()[StoreOp::kPut].errors, 1u);
  EXPECT_EQ(store.counters().errors(), 1u);
}

TEST_F(FaultStoreTest, FailNthCallOfAnyKindCountsEveryCall) {
  FaultStore store(inner_);
  store.FailNthCall(3, std::nullopt, StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(PutSync(store, "k", "v").ok());                                        // 1
  EXPECT_TRUE(GetSync(store, "k").ok());                                             // 2
  EXPECT_EQ(HeadSync(store, "k").status().code(), StatusCode::kDeadlineExceeded);    // 3
  EXPECT_TRUE(HeadSync(store, "k").ok());                                            // 4
  EXPECT_EQ(store.counters()[StoreOp::kHead].errors, 1u);
}

// Rules may aim at keys: the commit point, say, rather than the nth put.
TEST_F(FaultStoreTest, RulesCanMatchAKeyPrefix) {
  FaultStore store(inner_);
  store.LoseNthResponse(2, StoreOp::kPut, "CURRENT");
  store.AddRule({.kind = FaultStore::Rule::Kind::kError, .op = StoreOp::kList, .key_prefix = "gen/",
                 .code = StatusCode::kDeadlineExceeded});
  EXPECT_EQ(store.pending_rules(), 2u);
  EXPECT_TRUE(PutSync(store, "a", "1").ok());
  EXPECT_TRUE(PutSync(store, "CURRENT", "1").ok());  // the first matching put
  EXPECT_TRUE(PutSync(store, "b", "1").ok());
  auto lost = PutSync(store, "CURRENT", "2");
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(GetSync(*inner_, "CURRENT")->body, "2");
  EXPECT_TRUE(PutSync(store, "CURRENT", "3").ok());  // fired once
  EXPECT_TRUE(ListAllSync(store, "other/").ok());
  auto listed = ListAllSync(store, "gen/x");
  EXPECT_EQ(listed.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(listed.status().message().find("list prefix \"gen/x\""), std::string::npos) << listed.status().ToString();
  EXPECT_EQ(store.pending_rules(), 0u);
  EXPECT_EQ(store.counters()[StoreOp::kPut].lost_responses, 1u);
  EXPECT_EQ(store.counters()[StoreOp::kList].errors, 1u);
}

// An armed lost response happens even on a call the rates would fail.
TEST_F(FaultStoreTest, RulesWinOverTheRates) {
  FaultStore store(inner_);
  FaultOptions o;
  o.put.error_rate = 1.0;
  store.SetOptions(o);
  store.LoseNthResponse(1, StoreOp::kPut);
  auto r = PutSync(store, "k", "v");
  EXPECT_NE(r.status().message().find("lost response"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(inner_->Keys(), std::vector<std::string>{"k"});
  EXPECT_NE(PutSync(store, "k2", "v").status().message().find("injected fault: put k2"), std::string::npos);
  // Both kinds of rule on one call: the error wins.
  store.ClearFaults();
  store.LoseNthResponse(1, StoreOp::kPut);
  store.FailNthCall(1, StoreOp::kPut, StatusCode::kDataLoss);
  EXPECT_EQ(PutSync(store, "k3", "v").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store.counters()[StoreOp::kPut].lost_responses, 1u);
  EXPECT_EQ(store.counters()[StoreOp::kPut].errors, 2u);
}

// The draws depend only on (seed, kind, call number): the same sequence of
// calls fails at the same places; another seed fails elsewhere.
TEST_F(FaultStoreTest, ErrorRatesAreSeededAndDeterministic) {
  auto pattern = [](uint64_t seed) {
    auto inner = std::make_shared<MemoryStore>();
    FaultStore store(inner, seed);
    store.SetOptions(FaultOptions{}.WithErrorRate(0.2));
    std::vector<bool> failed;
    for (int i = 0; i < 1000; ++i) {
      auto r = PutSync(store, "k" + std::to_string(i), "v");
      EXPECT_TRUE(r.ok() || (r.status().code() == StatusCode::kUnavailable && IsInjected(r.status())))
          << r.status().ToString();
      failed.push_back(!r.ok());
    }
    size_t n = std::count(failed.begin(), failed.end(), true);
    EXPECT_EQ(store.counters()[StoreOp::kPut].errors, n);
    EXPECT_EQ(inner->Keys().size(), 1000 - n);  // failed puts never reached the store
    return failed;
  };
  std::vector<bool> a = pattern(42), b = pattern(42), c = pattern(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  size_t n = std::count(a.begin(), a.end(), true);
  EXPECT_GT(n, 150u);  // fixed by the seed; a sanity check of the rate, not a statistical test
  EXPECT_LT(n, 250u);
}

TEST_F(FaultStoreTest, RatesApplyPerKind) {
  FaultStore store(inner_, 5);
  FaultOptions o;
  o.get.error_rate = 1.0;
  store.SetOptions(o);
  EXPECT_TRUE(PutSync(store, "k", "v").ok());
  EXPECT_TRUE(HeadSync(store, "k").ok());
  EXPECT_EQ(GetSync(store, "k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.options().get.error_rate, 1.0);
  store.ClearFaults();
  EXPECT_TRUE(GetSync(store, "k").ok());
  EXPECT_EQ(store.counters()[StoreOp::kGet].errors, 1u);  // counters survive ClearFaults
}

// The nasty case: the store committed the put, the caller heard a failure.
TEST_F(FaultStoreTest, LostPutResponseLeavesTheObjectInPlace) {
  FaultStore store(inner_);
  store.LoseNthResponse(1, StoreOp::kPut);
  auto first = PutSync(store, "seg", "bytes", /*if_none_match=*/true);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(first.status().message().find("lost response after successful put seg"), std::string::npos)
      << first.status().ToString();
  EXPECT_EQ(GetSync(*inner_, "seg")->body, "bytes");
  // A conditional retry now loses against its own first attempt...
  EXPECT_EQ(PutSync(store, "seg", "bytes", true).status().code(), StatusCode::kAlreadyExists);
  // ...a plain retry just overwrites with the same bytes.
  EXPECT_TRUE(PutSync(store, "seg", "bytes").ok());
  FaultCounters c = store.counters();
  EXPECT_EQ(c[StoreOp::kPut].lost_responses, 1u);
  EXPECT_EQ(c[StoreOp::kPut].errors, 0u);
  EXPECT_EQ(c.failed_calls(), 1u);
}

TEST_F(FaultStoreTest, LostDeleteResponseStillDeletes) {
  FaultStore store(inner_);
  ASSERT_TRUE(PutSync(store, "k", "v").ok());
  store.LoseNthResponse(1, StoreOp::kDelete);
  Status st = DeleteSync(store, "k");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsInjected(st));
  EXPECT_TRUE(inner_->Keys().empty());
  EXPECT_TRUE(DeleteSync(store, "k").ok());  // deleting a missing key succeeds
  EXPECT_EQ(store.counters()[StoreOp::kDelete].lost_responses, 1u);
}

// An inner failure has no success to lose: it reaches the caller as is.
TEST_F(FaultStoreTest, LostResponseDoesNotMaskInnerErrors) {
  FaultStore store(inner_);
  ASSERT_TRUE(PutSync(store, "k", "v").ok());
  store.LoseNthResponse(1, StoreOp::kPut);
  EXPECT_EQ(PutSync(store, "k", "w", true).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.counters().lost_responses(), 0u);
}

TEST_F(FaultStoreTest, LostResponseRateIsDeterministic) {
  auto run = [](uint64_t seed) {
    auto inner = std::make_shared<MemoryStore>();
    FaultStore store(inner, seed);
    FaultOptions o;
    o.put.lost_response_rate = 0.3;
    store.SetOptions(o);
    std::vector<bool> lost;
    for (int i = 0; i < 200; ++i) lost.push_back(!PutSync(store, "k" + std::to_string(i), "v").ok());
    EXPECT_EQ(inner->Keys().size(), 200u);  // every put landed
    EXPECT_EQ(store.counters().lost_responses(), static_cast<uint64_t>(std::count(lost.begin(), lost.end(), true)));
    return lost;
  };
  EXPECT_EQ(run(9), run(9));
}

TEST_F(FaultStoreTest, StalledCallCompletesLaterOnTheTimerThread) {
  FaultStore store(inner_);
  ASSERT_TRUE(PutSync(store, "k", "v").ok());
  store.StallNthCall(1, StoreOp::kGet, milliseconds(200));
  std::promise<std::thread::id> where;
  std::atomic<bool> called{false};
  auto t0 = std::chrono::steady_clock::now();
  store.Get(GetRequest{"k", std::nullopt}, [&](Result<GetResult> r) {
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->body, "v");
    called = true;
    where.set_value(std::this_thread::get_id());
  });
  // MemoryStore completes inline; the stall is what holds the callback back.
  EXPECT_FALSE(called.load());
  EXPECT_EQ(store.stalled_now(), 1u);
  auto done = where.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(200));  // never early
  EXPECT_NE(done.get(), std::this_thread::get_id());
  EXPECT_EQ(store.counters()[StoreOp::kGet].stalls, 1u);
  EXPECT_EQ(store.stalled_now(), 0u);
  // Unstalled calls complete inline again.
  EXPECT_TRUE(GetSync(store, "k").ok());
}

TEST_F(FaultStoreTest, StalledCallsCompleteInDeadlineOrder) {
  FaultStore store(inner_);
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> both;
  auto record = [&](std::string name) {
    return [&, name](Result<ObjectInfo>) {
      std::lock_guard lock(mu);
      order.push_back(name);
      if (order.size() == 2) both.set_value();
    };
  };
  store.StallNthCall(1, StoreOp::kPut, milliseconds(1000));
  store.StallNthCall(2, StoreOp::kPut, milliseconds(1));
  store.Put(PutRequest{"slow", "v", false}, record("slow"));
  store.Put(PutRequest{"fast", "v", false}, record("fast"));
  // Both writes happened at once; only completions wait.
  EXPECT_EQ(inner_->Keys().size(), 2u);
  ASSERT_EQ(both.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
}

TEST_F(FaultStoreTest, InjectedErrorsCanStallToo) {
  FaultStore store(inner_);
  store.FailNthCall(1, StoreOp::kHead);
  store.StallNthCall(1, StoreOp::kHead, milliseconds(20));
  std::promise<Status> got;
  store.Head("k", [&](Result<ObjectInfo> r) { got.set_value(r.status()); });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(IsInjected(f.get()));
  FaultCounters c = store.counters();
  EXPECT_EQ(c[StoreOp::kHead].errors, 1u);
  EXPECT_EQ(c[StoreOp::kHead].stalls, 1u);
  EXPECT_EQ(inner_->call_counts().head, 0u);
}

// Every call completes exactly once, even when the store goes away with
// completions still held back.
TEST_F(FaultStoreTest, DestructionCompletesStalledCalls) {
  std::atomic<int> completed{0};
  {
    FaultStore store(inner_);
    FaultOptions o;
    o.put.stall_rate = 1.0;
    o.put.stall = std::chrono::hours(1);
    store.SetOptions(o);
    for (int i = 0; i < 3; ++i) {
      store.Put(PutRequest{"k" + std::to_string(i), "v", false}, [&](Result<ObjectInfo> r) {
        EXPECT_TRUE(r.ok());
        ++completed;
      });
    }
    EXPECT_EQ(completed.load(), 0);
    EXPECT_EQ(store.stalled_now(), 3u);
  }
  EXPECT_EQ(completed.load(), 3);
}

TEST_F(FaultStoreTest, CallbacksMayCallTheStoreAgain) {
  FaultStore store(inner_);
  store.StallNthCall(1, StoreOp::kPut, milliseconds(1));
  std::promise<Result<GetResult>> got;
  store.Put(PutRequest{"k", "v", false}, [&](Result<ObjectInfo> r) {
    ASSERT_TRUE(r.ok());
    // On the timer thread: a nested call (itself stalled) must not deadlock.
    store.StallNthCall(1, StoreOp::kGet, milliseconds(1));
    store.Get(GetRequest{"k", std::nullopt}, [&](Result<GetResult> g) { got.set_value(std::move(g)); });
  });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto g = f.get();
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->body, "v");
}

// Concurrent callers: per-kind call numbers are handed out under the lock,
// so the number of injected faults equals a single-threaded run's.
TEST_F(FaultStoreTest, ConcurrentCallsSeeTheSameNumberOfFaults) {
  FaultOptions o;
  o.WithErrorRate(0.1);
  o.put.lost_response_rate = 0.05;
  auto run = [&](int threads) {
    auto inner = std::make_shared<MemoryStore>();
    FaultStore store(inner, 3);
    store.SetOptions(o);
    std::atomic<uint64_t> put_failures{0}, get_injected{0};
    std::vector<std::thread> pool;
    const int per_thread = 800 / threads;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
          if (!PutSync(store, key, "v").ok()) ++put_failures;
          auto g = GetSync(store, key);
          if (!g.ok() && IsInjected(g.status())) ++get_injected;
        }
      });
    }
    for (auto& th : pool) th.join();
    FaultCounters c = store.counters();
    EXPECT_EQ(c.calls(), 1600u);
    EXPECT_EQ(c[StoreOp::kPut].errors + c[StoreOp::kPut].lost_responses, put_failures.load()) << c.ToString();
    EXPECT_EQ(c[StoreOp::kGet].errors, get_injected.load()) << c.ToString();
    return std::make_pair(c[StoreOp::kPut].errors, c[StoreOp::kGet].errors);
  };
  auto single = run(1);
  auto multi = run(4);
  EXPECT_EQ(single, multi);
  EXPECT_GT(single.first, 0u);
}

TEST(FaultCountersTest, SumsAndPrints) {
  FaultCounters c;
  c.ops[static_cast<size_t>(StoreOp::kPut)] = {10, 2, 1, 3};
  c.ops[static_cast<size_t>(StoreOp::kGet)] = {5, 1, 0, 0};
  EXPECT_EQ(c.calls(), 15u);
  EXPECT_EQ(c.errors(), 3u);
  EXPECT_EQ(c.lost_responses(), 1u);
  EXPECT_EQ(c.stalls(), 3u);
  EXPECT_EQ(c.failed_calls(), 4u);
  EXPECT_NE(c.ToString().find("put 10 calls 2 errors 1 lost 3 stalls"), std::string::npos) << c.ToString();
}

}  // namespace
}  // namespace freshet
