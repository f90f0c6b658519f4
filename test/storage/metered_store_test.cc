// MeteredStore over a MemoryStore (and a FaultStore for failures): calls by
// operation and status, bytes, durations, Describe(), the rendered lines,
// and a completion that arrives after the store is gone.
#include "storage/metered_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "storage/blocking_store.h"
#include "storage/fault_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

double Requests(MetricsRegistry& reg, const std::string& role, const std::string& op, const std::string& status) {
  return reg
      .GetCounter("freshet_object_store_requests_total", "",
                  {{"store", role}, {"operation", op}, {"status", status}})
      .value();
}

double Bytes(MetricsRegistry& reg, const std::string& role, const std::string& direction) {
  return reg.GetCounter("freshet_object_store_bytes_total", "", {{"store", role}, {"direction", direction}}).value();
}

Histogram::Snapshot Durations(MetricsRegistry& reg, const std::string& role, const std::string& op) {
  return reg
      .GetHistogram("freshet_object_store_request_duration_seconds", "", ExponentialBuckets(0.001, 2, 16),
                    {{"store", role}, {"operation", op}})
      .snapshot();
}

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

class MeteredStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryStore> memory_ = std::make_shared<MemoryStore>();
  std::shared_ptr<FaultStore> faults_ = std::make_shared<FaultStore>(memory_);
  MetricsRegistry reg_;
};

// A unique_ptr that forwards to a shared store, so the test keeps a handle.
class Forward final : public ObjectStore {
 public:
  explicit Forward(std::shared_ptr<ObjectStore> s) : s_(std::move(s)) {}
  void List(ListRequest r, StoreCallback<ListPage> d) override { s_->List(std::move(r), std::move(d)); }
  void Get(GetRequest r, StoreCallback<GetResult> d) override { s_->Get(std::move(r), std::move(d)); }
  void Head(std::string k, StoreCallback<ObjectInfo> d) override { s_->Head(std::move(k), std::move(d)); }
  void Put(PutRequest r, StoreCallback<ObjectInfo> d) override { s_->Put(std::move(r), std::move(d)); }
  void Delete(std::string k, StoreCallback<Unit> d) override { s_->Delete(std::move(k), std::move(d)); }
  std::string Describe() const override { return s_->Describe(); }

 private:
  std::shared_ptr<ObjectStore> s_;
};

TEST_F(MeteredStoreTest, CountsCallsByOperationAndStatusAndBytes) {
  auto store = MakeMeteredStore(std::make_unique<Forward>(faults_), "sink", &reg_);
  ASSERT_TRUE(PutSync(*store, "a/1", "hello").ok());
  ASSERT_TRUE(PutSync(*store, "a/2", "1234567").ok());
  EXPECT_EQ(PutSync(*store, "a/1", "xx", /*if_none_match=*/true).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(GetSync(*store, "a/1")->body, "hello");
  EXPECT_EQ(GetSync(*store, GetRequest{"a/2", ByteRange{1, 2}})->body, "23");
  EXPECT_EQ(GetSync(*store, "a/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(HeadSync(*store, "a/2")->size, 7u);
  ASSERT_TRUE(ListAllSync(*store, "a/").ok());
  faults_->FailNthCall(1, StoreOp::kPut, StatusCode::kUnavailable);
  EXPECT_EQ(PutSync(*store, "a/3", "never written").status().code(), StatusCode::kUnavailable);
  faults_->FailNthCall(1, StoreOp::kDelete, StatusCode::kDeadlineExceeded);
  EXPECT_EQ(DeleteSync(*store, "a/1").code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(DeleteSync(*store, "a/1").ok());

  EXPECT_EQ(Requests(reg_, "sink", "put", "ok"), 2);
  EXPECT_EQ(Requests(reg_, "sink", "put", "already_exists"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "put", "unavailable"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "get", "ok"), 2);
  EXPECT_EQ(Requests(reg_, "sink", "get", "not_found"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "head", "ok"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "list", "ok"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "delete", "ok"), 1);
  EXPECT_EQ(Requests(reg_, "sink", "delete", "deadline_exceeded"), 1);
  EXPECT_EQ(Bytes(reg_, "sink", "read"), 5 + 2);           // whole "hello" and the 2-byte range
  EXPECT_EQ(Bytes(reg_, "sink", "written"), 5 + 7);        // failed puts write nothing
  EXPECT_EQ(Durations(reg_, "sink", "put").count, 4u);     // every outcome is timed
  EXPECT_EQ(Durations(reg_, "sink", "get").count, 3u);
  EXPECT_EQ(Durations(reg_, "sink", "delete").count, 2u);
  EXPECT_GE(Durations(reg_, "sink", "get").sum, 0);
  EXPECT_EQ(memory_->call_counts().put, 3u) << "the injected failure never reached the memory store";

  const std::string text = reg_.RenderPrometheus();
  for (const char* line : {
           "freshet_object_store_requests_total{store=\"sink\",operation=\"put\",status=\"ok\"} 2",
           "freshet_object_store_requests_total{store=\"sink\",operation=\"put\",status=\"unavailable\"} 1",
           "freshet_object_store_requests_total{store=\"sink\",operation=\"get\",status=\"not_found\"} 1",
           "freshet_object_store_requests_total{store=\"sink\",operation=\"delete\",status=\"deadline_exceeded\"} 1",
           "freshet_object_store_bytes_total{store=\"sink\",direction=\"read\"} 7",
           "freshet_object_store_bytes_total{store=\"sink\",direction=\"written\"} 12",
           "freshet_object_store_request_duration_seconds_count{store=\"sink\",operation=\"put\"} 4",
           "freshet_object_store_request_duration_seconds_bucket{store=\"sink\",operation=\"get\",le=\"+Inf\"} 3",
       }) {
    EXPECT_TRUE(HasLine(text, line)) << line << "\nnot in\n" << text;
  }
  EXPECT_NE(text.find("# TYPE freshet_object_store_request_duration_seconds histogram\n"), std::string::npos);
  // Statuses that never happened have no line; "ok" is there from the start.
  EXPECT_EQ(text.find("status=\"permission_denied\""), std::string::npos) << text;
}

TEST_F(MeteredStoreTest, OkCountersExistBeforeTheFirstCall) {
  auto store = MakeMeteredStore(std::make_unique<MemoryStore>(), "source", &reg_);
  const std::string text = reg_.RenderPrometheus();
  for (const char* op : {"list", "get", "head", "put", "delete"}) {
    const std::string line = std::string("freshet_object_store_requests_total{store=\"source\",operation=\"") + op +
                             "\",status=\"ok\"} 0";
    EXPECT_TRUE(HasLine(text, line)) << line << "\nnot in\n" << text;
  }
  EXPECT_TRUE(HasLine(text, "freshet_object_store_bytes_total{store=\"source\",direction=\"read\"} 0")) << text;
}

TEST_F(MeteredStoreTest, DescribeIsTheInnerStores) {
  auto inner = std::make_unique<MemoryStore>();
  const std::string described = inner->Describe();
  auto store = MakeMeteredStore(std::move(inner), "sink", &reg_);
  EXPECT_EQ(store->Describe(), described);
  EXPECT_EQ(store->Describe().rfind("mem://", 0), 0u) << store->Describe();
}

TEST_F(MeteredStoreTest, RolesAreSeparateChildren) {
  auto source = MakeMeteredStore(std::make_unique<Forward>(memory_), "source", &reg_);
  auto sink = MakeMeteredStore(std::make_unique<Forward>(memory_), "sink", &reg_);
  ASSERT_TRUE(PutSync(*sink, "k", "abc").ok());
  ASSERT_TRUE(GetSync(*source, "k").ok());
  ASSERT_TRUE(GetSync(*source, "k").ok());
  EXPECT_EQ(Requests(reg_, "sink", "put", "ok"), 1);
  EXPECT_EQ(Requests(reg_, "source", "put", "ok"), 0);
  EXPECT_EQ(Requests(reg_, "source", "get", "ok"), 2);
  EXPECT_EQ(Bytes(reg_, "source", "read"), 6);
  EXPECT_EQ(Bytes(reg_, "sink", "written"), 3);
}

TEST_F(MeteredStoreTest, ACompletionAfterTheStoreIsGoneIsStillCounted) {
  // The FaultStore holds the get's completion for a long stall; destroying
  // the metered store destroys the FaultStore, which completes it at once.
  auto stalling = std::make_unique<FaultStore>(memory_);
  stalling->StallNthCall(1, StoreOp::kGet, std::chrono::hours(1));
  ASSERT_TRUE(PutSync(*memory_, "k", "body").ok());
  auto store = MakeMeteredStore(std::move(stalling), "sink", &reg_);
  std::promise<Result<GetResult>> got;
  store->Get(GetRequest{"k", std::nullopt}, [&got](Result<GetResult> r) { got.set_value(std::move(r)); });
  EXPECT_EQ(Durations(reg_, "sink", "get").count, 0u) << "still stalled";
  store.reset();
  auto r = got.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Requests(reg_, "sink", "get", "ok"), 1);
  EXPECT_EQ(Bytes(reg_, "sink", "read"), 4);
  EXPECT_EQ(Durations(reg_, "sink", "get").count, 1u);
}

}  // namespace
}  // namespace freshet
