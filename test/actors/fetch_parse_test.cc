#include "actors/fetch_parse.h"

#include <gtest/gtest.h>

#include <future>
#include <set>

#include "storage/fault_store.h"
#include "storage/memory_store.h"
#include "testing/lz4_frame.h"

namespace freshet {
namespace {

using testing::Lz4FrameOf;

std::string Record(const std::string& id, int version, size_t pad) {
  return "{\"id\":\"" + id + "\",\"version\":" + std::to_string(version) + ",\"title\":\"" + std::string(pad, 'x') +
         "\"}";
}

// Lines of every kind a range cut has to get right: varying lengths, blank
// lines, CRLF, a bad line, one line far longer than the smallest pieces,
// and (when `tail`) a last line without a newline.
std::string Ndjson(const std::string& prefix, int n, bool tail) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i == 17) out += "\n  \n";  // blank lines
    if (i == 40) out += "not json\n";
    if (i == 41) out += "{\"id\":\"" + prefix + "-crlf\",\"version\":1}\r\n";
    const size_t pad = i == 60 ? 3000 : static_cast<size_t>(i * 37 % 200);
    out += Record(prefix + "-" + std::to_string(1000 + i), 1 + i % 3, pad);
    if (i + 1 < n || !tail) out += "\n";
  }
  return out;
}

struct Input {
  std::string key, body;
};

std::vector<Input> Inputs() {
  std::string truncated = Lz4FrameOf(Ndjson("t", 5, false));
  truncated.resize(truncated.size() - 3);
  return {
      {"snap/part-0.ndjson", Ndjson("a", 3, false)},
      {"snap/part-1.ndjson", "\xEF\xBB\xBF" + Ndjson("b", 120, true)},  // a BOM, no final newline
      {"snap/part-2.ndjson", ""},                                          // empty: ignored
      {"snap/_SUCCESS", "x"},                                              // ignored
      {"snap/part-3.lz4", Lz4FrameOf(Ndjson("c", 80, false))},            // LZ4 by name: read whole
      {"snap/part-4.ndjson", Lz4FrameOf(Ndjson("d", 80, true))},          // LZ4 by content only
      {"snap/part-5.lz4", truncated},                                      // corrupt
      {"snap/part-6.ndjson", Ndjson("e", 90, false)},
      {"snap/part-7.ndjson", Ndjson("f", 1, true)},
  };
}

// What one FetchParse read gave its consumer.
struct Consumed {
  Result<DecodedInput> counts = Status::Internal("not done");
  DecodedInput all;  // records and quarantine, in the order consumed
  std::vector<std::string> completed;
  size_t calls = 0;
};

struct ReadSetup {
  size_t piece_bytes = 0;
  uint64_t max_pending_bytes = 0;
  size_t max_pieces_ahead = 0;
  size_t parallelism = 1;
};

class FetchParseTest : public ::testing::Test {
 protected:
  FetchParseTest() : memory_(std::make_shared<MemoryStore>()), pool_("fetch-parse-test", 2, 256) {
    for (const Input& in : Inputs()) Put(in.key, in.body);
  }

  void Put(const std::string& key, const std::string& body) {
    PutRequest req;
    req.key = key;
    req.body = body;
    memory_->Put(std::move(req), [](Result<ObjectInfo> r) { ASSERT_TRUE(r.ok()) << r.status().ToString(); });
  }

  std::vector<ObjectInfo> Listing() {
    std::vector<ObjectInfo> out;
    for (const std::string& key : memory_->Keys()) {
      memory_->Head(key, [&out](Result<ObjectInfo> r) {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        out.push_back(*r);
      });
    }
    // Not in key order: FetchParse reads in key order whatever it is given.
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Every object whole, at once: what the read must give, piece by piece.
  DecodedInput Expected(const std::vector<ObjectInfo>& listing) {
    std::vector<std::pair<ObjectInfo, std::string>> objects;
    for (const ObjectInfo& o : listing) {
      memory_->Get(GetRequest{o.key, std::nullopt}, [&](Result<GetResult> r) {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        objects.emplace_back(o, r->body);
      });
    }
    return DecodeAndParse(schema_, objects);
  }

  Consumed Read(ObjectStore* store, std::vector<ObjectInfo> listing, const ReadSetup& s,
                std::function<Status(size_t call)> fail = nullptr) {
    Consumed c;
    FetchParse op;
    op.store = store;
    op.pool = &pool_;
    op.schema = &schema_;
    op.objects = std::move(listing);
    op.parallelism = s.parallelism;
    op.moved = moved_;
    op.piece_bytes = s.piece_bytes;
    op.max_pending_bytes = s.max_pending_bytes;
    op.max_pieces_ahead = s.max_pieces_ahead;
    op.consume = [&c, fail](std::vector<ObjectInfo> objects, DecodedInput* part) {
      ++c.calls;
      if (fail) {
        if (Status st = fail(c.calls); !st.ok()) return st;
      }
      for (const ObjectInfo& o : objects) c.completed.push_back(o.key);
      for (EntityRecord& r : part->records) c.all.records.push_back(std::move(r));
      for (QuarantineEntry& q : part->bad) c.all.bad.push_back(std::move(q));
      return Status::Ok();
    };
    std::promise<Result<DecodedInput>> done;
    op([&done](Result<DecodedInput> r) { done.set_value(std::move(r)); });
    c.counts = done.get_future().get();
    return c;
  }

  static void ExpectSame(const DecodedInput& want, const Consumed& got, const std::string& what) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(got.counts.ok()) << got.counts.status().ToString();
    const DecodedInput& n = *got.counts;
    EXPECT_EQ(n.objects, want.objects);
    EXPECT_EQ(n.bytes, want.bytes);
    EXPECT_EQ(n.records_total, want.records_total);
    EXPECT_EQ(n.ignored_objects, want.ignored_objects);
    EXPECT_EQ(n.decoded_bytes, want.decoded_bytes);
    EXPECT_EQ(n.corrupt_objects, want.corrupt_objects);
    EXPECT_EQ(n.corrupt_bytes, want.corrupt_bytes);
    ASSERT_EQ(got.all.records.size(), want.records.size());
    for (size_t i = 0; i < want.records.size(); ++i) {
      const EntityRecord& a = got.all.records[i];
      const EntityRecord& b = want.records[i];
      ASSERT_EQ(std::tie(a.source, a.line, a.id, a.version, a.tiebreak),
                std::tie(b.source, b.line, b.id, b.version, b.tiebreak))
          << "record " << i;
      ASSERT_EQ(a.json(), b.json()) << "record " << i;
    }
    EXPECT_EQ(got.all.bad, want.bad);
  }

  std::shared_ptr<MemoryStore> memory_;
  ThreadPool pool_;
  SchemaOptions schema_ = DefaultFlatSchema();
  std::shared_ptr<std::vector<std::string>> moved_ = std::make_shared<std::vector<std::string>>();
};

TEST_F(FetchParseTest, PiecesOfAnySizeGiveWhatTheWholeObjectsGive) {
  const std::vector<ObjectInfo> listing = Listing();
  const DecodedInput want = Expected(listing);
  ASSERT_GT(want.records.size(), 300u);
  ASSERT_EQ(want.bad.size(), 5u);  // a bad line in each of b, c, d and e; the corrupt object
  std::set<std::string> all_keys;
  for (const ObjectInfo& o : listing) all_keys.insert(o.key);
  // (Ranges are 16 bytes at least: 7 reads in ranges of 16.)
  for (size_t piece : {size_t{0}, size_t{7}, size_t{64}, size_t{333}, size_t{4096}, size_t{1} << 20}) {
    for (uint64_t pending : {uint64_t{0}, uint64_t{1}, uint64_t{1000}}) {
      for (size_t ahead : {size_t{1}, size_t{0}}) {
        for (size_t parallelism : {size_t{1}, size_t{3}}) {
          const ReadSetup s{piece, pending, ahead, parallelism};
          const std::string what = "piece " + std::to_string(piece) + " pending " + std::to_string(pending) +
                                   " ahead " + std::to_string(ahead) + " parallelism " + std::to_string(parallelism);
          Consumed got = Read(memory_.get(), listing, s);
          ExpectSame(want, got, what);
          EXPECT_TRUE(moved_->empty()) << what;
          // Each object completes once, in key order, ignored ones too.
          EXPECT_EQ(got.completed, std::vector<std::string>(all_keys.begin(), all_keys.end())) << what;
        }
      }
    }
  }
}

TEST_F(FetchParseTest, BigObjectsAreReadInRangesAndLz4OnesWhole) {
  const std::vector<ObjectInfo> listing = Listing();
  const size_t piece = 333;
  uint64_t want_gets = 0;
  for (const ObjectInfo& o : listing) {
    if (o.key == "snap/part-4.ndjson") {
      want_gets += 2;  // its first range shows LZ4: read again whole, the other ranges not at all
    } else if (o.size > piece && !o.key.ends_with(".lz4") && !o.key.ends_with("_SUCCESS")) {
      want_gets += (o.size + piece - 1) / piece;
    } else {
      want_gets += 1;
    }
  }
  memory_->ResetCallCounts();
  Consumed got = Read(memory_.get(), listing, ReadSetup{piece, 0, 0, 1});
  ExpectSame(Expected(listing), got, "ranges of 333 bytes");
  EXPECT_EQ(memory_->call_counts().get - listing.size(), want_gets);  // (Expected read each once)
}

TEST_F(FetchParseTest, RangesArrivingOutOfOrderAreCutInOrder) {
  // Completions delayed at random: later ranges often arrive first.
  auto faults = std::make_shared<FaultStore>(memory_, 7);
  FaultOptions o;
  o.get.stall_rate = 0.5;
  o.get.stall = std::chrono::milliseconds(3);
  faults->SetOptions(o);
  const std::vector<ObjectInfo> listing = Listing();
  const DecodedInput want = Expected(listing);
  for (size_t piece : {size_t{64}, size_t{500}}) {
    Consumed got = Read(faults.get(), listing, ReadSetup{piece, 4 * piece, 0, 4});
    ExpectSame(want, got, "piece " + std::to_string(piece));
  }
  EXPECT_GT(faults->counters()[StoreOp::kGet].stalls, 10u);
}

TEST_F(FetchParseTest, AnObjectThatChangedIsNamedOnceAndTheRestIsRead) {
  std::vector<ObjectInfo> listing = Listing();
  for (ObjectInfo& o : listing) {
    if (o.key == "snap/part-6.ndjson") o.etag = "\"stale\"";  // rewritten since it was listed
  }
  Put("snap/part-0.ndjson", "{\"id\":\"x\",\"version\":1}\n");  // its size changed too
  Consumed got = Read(memory_.get(), listing, ReadSetup{64, 0, 0, 2});
  ASSERT_TRUE(got.counts.ok()) << got.counts.status().ToString();
  std::vector<std::string> moved = *moved_;
  std::sort(moved.begin(), moved.end());
  EXPECT_EQ(moved, (std::vector<std::string>{"snap/part-0.ndjson", "snap/part-6.ndjson"}));
  for (const EntityRecord& r : got.all.records) {
    EXPECT_NE(r.source, "snap/part-0.ndjson");
  }
}

TEST_F(FetchParseTest, AConsumerThatFailsStopsTheRead) {
  const std::vector<ObjectInfo> listing = Listing();
  Consumed got = Read(memory_.get(), listing, ReadSetup{64, 128, 0, 2}, [](size_t call) {
    return call == 3 ? Status::DataLoss("the sorter's run could not be written") : Status::Ok();
  });
  ASSERT_FALSE(got.counts.ok());
  EXPECT_EQ(got.counts.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(got.calls, 3u);  // nothing after the failing part
}

TEST_F(FetchParseTest, AFailedFetchFailsTheRead) {
  auto faults = std::make_shared<FaultStore>(memory_);
  faults->FailNthCall(5, StoreOp::kGet, StatusCode::kPermissionDenied);
  Consumed got = Read(faults.get(), Listing(), ReadSetup{64, 256, 0, 2});
  ASSERT_FALSE(got.counts.ok());
  EXPECT_EQ(got.counts.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(got.counts.status().message().find("get snap/"), std::string::npos) << got.counts.status().ToString();
}

}  // namespace
}  // namespace freshet
