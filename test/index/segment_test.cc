#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "index/segment_format.h"
#include "index/segment_reader.h"
#include "index/segment_test_util.h"
#include "index/segment_writer.h"
#include "index/checksum.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

using testing_index::Build;
using testing_index::FileMap;
using testing_index::OpenMap;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

IndexDoc Doc(std::string id, std::vector<std::string> terms, std::string stored) {
  IndexDoc d;
  d.id = std::move(id);
  for (const std::string& t : terms) d.terms.push_back(t);
  d.stored = std::move(stored);
  return d;
}

IndexDoc Tombstone(std::string id) {
  IndexDoc d;
  d.id = std::move(id);
  d.tombstone = true;
  return d;
}

// Small blocks so a handful of docs spans many blocks of every file.
SegmentWriterOptions Tiny() {
  SegmentWriterOptions o;
  o.ids_per_block = 3;
  o.terms_block_bytes = 24;
  o.postings_block_bytes = 8;
  o.stored_block_bytes = 40;
  return o;
}

TEST(SegmentTest, EmptySegment) {
  auto files = Build({});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 4u);
  auto r = OpenMap(*files);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->num_docs(), 0u);
  EXPECT_EQ((*r)->stats(), SegmentStats{});
  EXPECT_THAT(*(*r)->Postings(MakeTerm("f", "x")), IsEmpty());
  EXPECT_EQ(*(*r)->FindDoc("a"), std::nullopt);
  EXPECT_EQ((*r)->DocId(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE((*r)->Verify().ok());
  int n = 0;
  EXPECT_TRUE((*r)->ForEachTerm([&](std::string_view, uint32_t) { ++n; }).ok());
  EXPECT_EQ(n, 0);
}

TEST(SegmentTest, SmallSegment) {
  for (const SegmentWriterOptions& opt : {SegmentWriterOptions{}, Tiny()}) {
    SegmentWriter w(opt);
    w.Add(Doc("c", {MakeTerm("title", "red"), MakeTerm("title", "shoe"), MakeTerm("title", "red")},
              R"({"id":"c"})"));
    w.Add(Tombstone("b"));
    w.Add(Doc("a", {MakeTerm("title", "red"), MakeTerm("country", "us")}, R"({"id":"a"})"));
    w.Add(Doc("d", {}, ""));
    EXPECT_EQ(w.stats().docs, 3u);
    EXPECT_EQ(w.stats().tombstones, 1u);
    auto files = w.Finish();
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_EQ(w.stats(), (SegmentStats{3, 1, 3, 4}));
    ASSERT_EQ(files->size(), 4u);
    EXPECT_EQ((*files)[0].name, "ids");
    EXPECT_EQ((*files)[1].name, "terms");
    EXPECT_EQ((*files)[2].name, "postings");
    EXPECT_EQ((*files)[3].name, "stored");

    auto r = OpenMap(testing_index::ToMap(*files));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const SegmentReader& s = **r;
    EXPECT_EQ(s.num_docs(), 4u);
    EXPECT_EQ(s.stats(), (SegmentStats{3, 1, 3, 4}));
    EXPECT_EQ(*s.DocId(0), "a");
    EXPECT_EQ(*s.DocId(1), "b");
    EXPECT_EQ(*s.DocId(3), "d");
    EXPECT_EQ(s.DocId(4).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(*s.FindDoc("c"), 2u);
    EXPECT_EQ(*s.FindDoc("0"), std::nullopt);
    EXPECT_EQ(*s.FindDoc("bb"), std::nullopt);
    EXPECT_EQ(*s.FindDoc("z"), std::nullopt);
    EXPECT_FALSE(*s.IsTombstone(0));
    EXPECT_TRUE(*s.IsTombstone(1));
    EXPECT_THAT(*s.Postings(MakeTerm("title", "red")), ElementsAre(0, 2));
    EXPECT_THAT(*s.Postings(MakeTerm("title", "shoe")), ElementsAre(2));
    EXPECT_THAT(*s.Postings(MakeTerm("country", "us")), ElementsAre(0));
    EXPECT_THAT(*s.Postings(MakeTerm("title", "blue")), IsEmpty());
    EXPECT_THAT(*s.Postings(""), IsEmpty());
    EXPECT_THAT(*s.Postings("\xff"), IsEmpty());
    EXPECT_EQ(*s.Stored(0), R"({"id":"a"})");
    EXPECT_EQ(*s.Stored(2), R"({"id":"c"})");
    EXPECT_EQ(*s.Stored(3), "");
    EXPECT_EQ(s.Stored(1).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(s.Stored(9).status().code(), StatusCode::kInvalidArgument);
    std::vector<std::pair<std::string, uint32_t>> terms;
    ASSERT_TRUE(s.ForEachTerm([&](std::string_view t, uint32_t df) { terms.emplace_back(t, df); }).ok());
    EXPECT_THAT(terms, ElementsAre(std::pair(MakeTerm("country", "us"), 1u),
                                   std::pair(MakeTerm("title", "red"), 2u),
                                   std::pair(MakeTerm("title", "shoe"), 1u)));
    EXPECT_TRUE(s.Verify().ok()) << s.Verify().ToString();
  }
}

TEST(SegmentTest, TombstoneTermsAndStoredAreIgnored) {
  IndexDoc t = Tombstone("x");
  t.terms = {MakeTerm("f", "v")};
  t.stored = "{}";
  auto files = Build({t});
  ASSERT_TRUE(files.ok());
  auto r = OpenMap(*files);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->stats(), (SegmentStats{0, 1, 0, 0}));
  EXPECT_THAT(*(*r)->Postings(MakeTerm("f", "v")), IsEmpty());
  EXPECT_TRUE((*r)->Verify().ok());
}

TEST(SegmentTest, DuplicateIdIsInvalidArgument) {
  SegmentWriter w;
  w.Add(Doc("a", {}, "{}"));
  w.Add(Doc("b", {}, "{}"));
  w.Add(Tombstone("a"));
  auto files = w.Finish();
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(files.status().message(), ::testing::HasSubstr("'a'"));
  EXPECT_EQ(w.Finish().status().code(), StatusCode::kFailedPrecondition);

  // Added back to back (otherwise in id order).
  SegmentWriter in_order;
  in_order.Add(Doc("a", {}, "{}"));
  in_order.Add(Doc("b", {}, "{}"));
  in_order.Add(Tombstone("b"));
  auto again = in_order.Finish();
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), ::testing::HasSubstr("'b'"));
}

TEST(SegmentTest, IdsAscendingBrokenIsInvalidArgument) {
  for (const char* second : {"a", "0"}) {  // a duplicate, then one out of order
    SegmentWriterOptions o;
    o.ids_ascending = true;
    SegmentWriter w(o);
    w.Add(Doc("a", {MakeTerm("f", "x")}, "{}"));
    w.Add(Doc(second, {MakeTerm("f", "y")}, "{}"));
    w.Add(Doc("b", {MakeTerm("f", "x")}, "{}"));
    auto files = w.Finish();
    ASSERT_FALSE(files.ok()) << second;
    EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(files.status().message(), ::testing::HasSubstr("ascending"));
  }
}

TEST(SegmentTest, MissingFileKeepsItsCode) {
  auto files = Build({Doc("a", {}, "{}")});
  ASSERT_TRUE(files.ok());
  files->erase("stored");
  EXPECT_EQ(OpenMap(*files).status().code(), StatusCode::kNotFound);
}

TEST(SegmentTest, SwappedFilesAreDataLoss) {
  auto files = Build({Doc("a", {MakeTerm("f", "x")}, "{}")});
  ASSERT_TRUE(files.ok());
  std::swap((*files)["terms"], (*files)["postings"]);
  EXPECT_EQ(OpenMap(*files).status().code(), StatusCode::kDataLoss);
}

// Random docs checked against a brute-force model.
struct Model {
  std::map<std::string, IndexDoc> docs;  // by id: doc order
  std::vector<IndexDoc> added;           // Add order
};

std::string RandomId(std::mt19937_64& rng, int i) {
  static const std::vector<std::string> kPrefixes = {"ad-", "ad-00", "adgroup/", "камп-", "東京-", "",
                                                     std::string("n\0ul", 4), "\xff\xfe"};
  return kPrefixes[rng() % kPrefixes.size()] + std::to_string(rng() % 1000000) + "-" + std::to_string(i);
}

Model RandomModel(uint64_t seed, int n, double tombstone_ratio) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> vocab;
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
  vocab.push_back(std::string(5000, 'L'));  // a very long term
  vocab.push_back("ünï\xe6\x9d\xb1");
  Model m;
  for (int i = 0; i < n; ++i) {
    IndexDoc d;
    d.id = RandomId(rng, i);
    if (std::uniform_real_distribution<>(0, 1)(rng) < tombstone_ratio) {
      d.tombstone = true;
    } else {
      d.terms.push_back(MakeTerm("all", "yes"));  // a list longer than any block
      d.terms.push_back(MakeTerm("id", d.id));    // unique per doc
      d.terms.push_back(MakeTerm("country", rng() % 2 ? "us" : "de"));
      const int k = static_cast<int>(rng() % 40);
      for (int j = 0; j < k; ++j) {
        // Skewed: low word numbers are common.
        const size_t w = static_cast<size_t>(rng() % (1 + rng() % vocab.size()));
        d.terms.push_back(MakeTerm("title", vocab[w]));
      }
      const int kind = static_cast<int>(rng() % 10);
      if (kind == 0) {
        d.stored = std::string(70000, 'x');  // larger than a stored block, compressible
      } else if (kind == 1) {
        for (int j = 0; j < 200; ++j) d.stored.push_back(static_cast<char>(rng()));  // incompressible
      } else {
        d.stored = R"({"id":")" + std::to_string(i) + R"(","title":"some title text"})";
      }
    }
    m.docs[d.id] = d;
    m.added.push_back(std::move(d));
  }
  return m;
}

void CheckAgainstModel(const SegmentReader& r, const Model& m) {
  ASSERT_EQ(r.num_docs(), m.docs.size());
  std::map<std::string, std::vector<uint32_t>> postings;
  uint64_t tombstones = 0, total = 0;
  uint32_t doc = 0;
  for (const auto& [id, d] : m.docs) {
    ASSERT_EQ(*r.DocId(doc), id);
    auto found = r.FindDoc(id);
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(*found, doc);
    ASSERT_EQ(*r.IsTombstone(doc), d.tombstone);
    if (d.tombstone) {
      ++tombstones;
      ASSERT_EQ(r.Stored(doc).status().code(), StatusCode::kNotFound);
    } else {
      ASSERT_EQ(*r.Stored(doc), d.stored);
      std::set<std::string> unique(d.terms.begin(), d.terms.end());
      for (const auto& t : unique) postings[t].push_back(doc);
      total += unique.size();
    }
    ++doc;
  }
  EXPECT_EQ(r.stats(), (SegmentStats{m.docs.size() - tombstones, tombstones, postings.size(), total}));
  auto it = postings.begin();
  ASSERT_TRUE(r.ForEachTerm([&](std::string_view t, uint32_t df) {
                 ASSERT_NE(it, postings.end());
                 EXPECT_EQ(t, it->first);
                 EXPECT_EQ(df, it->second.size());
                 ++it;
               }).ok());
  EXPECT_EQ(it, postings.end());
  for (const auto& [t, docs] : postings) {
    auto got = r.Postings(t);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(*got, docs) << t;
    // Neighbours that are not terms.
    EXPECT_THAT(*r.Postings(t + std::string(1, '\0')), IsEmpty());
    if (!t.empty() && t.back() != '\x01') {
      EXPECT_THAT(*r.Postings(t.substr(0, t.size() - 1) + "\x01"), IsEmpty());
    }
  }
  // The sequential scans see the same segment.
  auto next = m.docs.begin();
  uint32_t seen = 0;
  Status scanned = r.ForEachDoc([&](uint32_t d, std::string_view id, bool tombstone, std::string_view stored) {
    EXPECT_EQ(d, seen++);
    EXPECT_EQ(id, next->first);
    EXPECT_EQ(tombstone, next->second.tombstone);
    EXPECT_EQ(stored, tombstone ? std::string() : next->second.stored);
    ++next;
    return Status::Ok();
  });
  ASSERT_TRUE(scanned.ok()) << scanned.ToString();
  EXPECT_EQ(next, m.docs.end());
  auto list = postings.begin();
  scanned = r.ForEachPostingList([&](std::string_view t, const std::vector<uint32_t>& docs) {
    EXPECT_EQ(t, list->first);
    EXPECT_EQ(docs, list->second);
    ++list;
    return Status::Ok();
  });
  ASSERT_TRUE(scanned.ok()) << scanned.ToString();
  EXPECT_EQ(list, postings.end());
  // An error from the callback ends the scan and comes back as is.
  if (r.num_docs() > 0) {
    int calls = 0;
    Status stopped = r.ForEachDoc([&](uint32_t, std::string_view, bool, std::string_view) {
      ++calls;
      return Status::Cancelled("enough");
    });
    EXPECT_EQ(stopped.code(), StatusCode::kCancelled);
    EXPECT_EQ(calls, 1);
  }
  EXPECT_THAT(*r.Postings(""), IsEmpty());
  EXPECT_THAT(*r.Postings("\xff\xff\xff"), IsEmpty());
  EXPECT_EQ(*r.FindDoc(""), std::nullopt);
  EXPECT_EQ(*r.FindDoc("\xff\xff\xff\xff"), std::nullopt);
  EXPECT_EQ(*r.FindDoc("ad-"), std::nullopt);
  Status v = r.Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
}

TEST(SegmentTest, RandomRoundTrip10k) {
  Model m = RandomModel(42, 10000, 0.1);
  auto files = Build(m.added);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto r = OpenMap(*files);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  CheckAgainstModel(**r, m);
  // The compressible 70 KB bodies must have been stored compressed.
  size_t raw = 0;
  for (const auto& [id, d] : m.docs) raw += d.stored.size();
  EXPECT_LT((*files)["stored"].size(), raw / 2);
}

TEST(SegmentTest, RandomRoundTripTinyBlocks) {
  Model m = RandomModel(7, 700, 0.3);
  auto files = Build(m.added, Tiny());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto r = OpenMap(*files);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  CheckAgainstModel(**r, m);
}

// DocIds and StoredMany answer as DocId and Stored do, doc by doc, for
// ascending subsets crossing many blocks; a tombstone in StoredMany's list
// is kNotFound, as in Stored.
TEST(SegmentTest, BatchedReadsMatchSingleReads) {
  for (SegmentWriterOptions options : {SegmentWriterOptions{}, Tiny()}) {
    Model m = RandomModel(9, 700, 0.3);
    auto files = Build(m.added, options);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    auto r = OpenMap(*files);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::mt19937 rng(5);
    for (int round = 0; round < 50; ++round) {
      std::vector<uint32_t> all, live;
      for (uint32_t d = 0; d < (*r)->num_docs(); ++d) {
        if (rng() % 4 != 0) continue;
        all.push_back(d);
        if (!*(*r)->IsTombstone(d)) live.push_back(d);
      }
      auto ids = (*r)->DocIds(all);
      ASSERT_TRUE(ids.ok()) << ids.status().ToString();
      for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ((*ids)[i], *(*r)->DocId(all[i]));
      auto stored = (*r)->StoredMany(live);
      ASSERT_TRUE(stored.ok()) << stored.status().ToString();
      for (size_t i = 0; i < live.size(); ++i) EXPECT_EQ((*stored)[i], *(*r)->Stored(live[i])) << live[i];
      if (all.size() != live.size()) {
        EXPECT_EQ((*r)->StoredMany(all).status().code(), StatusCode::kNotFound);
      }
    }
  }
}

TEST(SegmentTest, AllTombstones) {
  Model m = RandomModel(3, 200, 1.0);
  auto files = Build(m.added, Tiny());
  ASSERT_TRUE(files.ok());
  auto r = OpenMap(*files);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  CheckAgainstModel(**r, m);
}

TEST(SegmentTest, DeterministicAcrossAddOrder) {
  Model m = RandomModel(11, 3000, 0.1);
  for (const SegmentWriterOptions& opt : {SegmentWriterOptions{}, Tiny()}) {
    auto a = Build(m.added, opt);
    ASSERT_TRUE(a.ok());
    for (uint64_t seed : {1, 2, 3}) {
      std::vector<IndexDoc> shuffled = m.added;
      std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed));
      // Term order and repeats within a doc must not matter either.
      for (auto& d : shuffled) {
        std::vector<std::string> terms(d.terms.begin(), d.terms.end());
        std::shuffle(terms.begin(), terms.end(), std::mt19937_64(seed));
        if (!terms.empty()) terms.push_back(terms.front());
        d.terms.clear();
        for (const std::string& t : terms) d.terms.push_back(t);
      }
      auto b = Build(shuffled, opt);
      ASSERT_TRUE(b.ok());
      EXPECT_TRUE(*a == *b) << "seed " << seed;
    }
    // In id order (the writer's no-sort path), and encoded on more threads.
    std::vector<IndexDoc> sorted;
    for (const auto& [id, d] : m.docs) sorted.push_back(d);
    ThreadPool pool("segment", 2, 8);
    for (size_t threads : {1, 2, 3}) {
      SegmentWriterOptions o = opt;
      o.threads = threads;
      o.pool = &pool;
      auto c = Build(sorted, o);
      ASSERT_TRUE(c.ok());
      EXPECT_TRUE(*a == *c) << threads << " threads";
      o.ids_ascending = true;
      auto streamed = Build(sorted, o);
      ASSERT_TRUE(streamed.ok());
      EXPECT_TRUE(*a == *streamed) << threads << " threads, ids_ascending";
      o.ids_ascending = false;
      auto d = Build(m.added, o);
      ASSERT_TRUE(d.ok());
      EXPECT_TRUE(*a == *d) << threads << " threads, any order";
    }
    // In id order for the first half only: the writer changes its postings
    // representation in the middle.
    std::vector<IndexDoc> half_sorted = sorted;
    std::shuffle(half_sorted.begin() + static_cast<ptrdiff_t>(half_sorted.size() / 2), half_sorted.end(),
                 std::mt19937_64(5));
    auto e = Build(half_sorted, opt);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(*a == *e) << "half in order";
    // Through DocBatches (of 7, and of everything), sealed or not, in id
    // order and not.
    for (const std::vector<IndexDoc>* docs : {&sorted, &m.added, &half_sorted}) {
      for (size_t per_batch : {size_t{7}, docs->size()}) {
        for (bool seal : {false, true}) {
          SegmentWriter w(opt);
          DocBatch batch;
          for (const IndexDoc& d : *docs) {
            batch.Add(d);
            if (batch.size() == per_batch) {
              if (seal) batch.Seal();
              w.Add(batch);
              batch.Clear();
            }
          }
          if (seal) batch.Seal();
          w.Add(batch);
          auto files = w.Finish();
          ASSERT_TRUE(files.ok());
          EXPECT_TRUE(*a == testing_index::ToMap(*files)) << per_batch << " per batch, sealed " << seal;
        }
      }
    }
  }
}

// Counts reads so tests can pin how many requests a remote source would see.
class CountingSource final : public RandomAccessSource {
 public:
  CountingSource(std::string bytes, std::atomic<int>* reads) : inner_(StringSource(std::move(bytes))), reads_(reads) {}
  uint64_t size() const override { return inner_->size(); }
  Result<std::string> Read(uint64_t offset, uint64_t length) const override {
    ++*reads_;
    return inner_->Read(offset, length);
  }

 private:
  std::unique_ptr<RandomAccessSource> inner_;
  std::atomic<int>* reads_;
};

TEST(SegmentTest, OpenReadsFewBlocks) {
  std::atomic<int> reads{0};
  auto open = [&](const FileMap& files) {
    return SegmentReader::Open([&](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
      return std::unique_ptr<RandomAccessSource>(new CountingSource(files.at(name), &reads));
    });
  };
  // Small files are read whole, once.
  auto small = Build({Doc("a", {MakeTerm("f", "x")}, "{}")});
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(open(*small).ok());
  EXPECT_EQ(reads.load(), 4);
  // Large files: header + tail (+ the index block when it exceeds the tail).
  Model m = RandomModel(13, 20000, 0.05);
  auto big = Build(m.added);
  ASSERT_TRUE(big.ok());
  reads = 0;
  auto r = open(*big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(reads.load(), 12);
  reads = 0;
  ASSERT_TRUE((*r)->Postings(MakeTerm("all", "yes")).ok());
  EXPECT_EQ(reads.load(), 2);  // one terms block, one postings block
}

TEST(SegmentTest, ConcurrentReaders) {
  Model m = RandomModel(5, 2000, 0.1);
  auto files = Build(m.added);
  ASSERT_TRUE(files.ok());
  auto r = SegmentReader::Open(
      [&](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
        return StringSource((*files)[name]);
      },
      SegmentReaderOptions{64 * 1024});  // small cache: constant eviction
  ASSERT_TRUE(r.ok());
  std::vector<std::pair<std::string, uint32_t>> ids;
  uint32_t doc = 0;
  for (const auto& [id, d] : m.docs) ids.emplace_back(id, doc++);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < ids.size(); i += 2) {
        auto f = (*r)->FindDoc(ids[i].first);
        if (!f.ok() || *f != ids[i].second) ++failures;
        auto p = (*r)->Postings(MakeTerm("id", ids[i].first));
        if (!p.ok()) ++failures;
        auto s = (*r)->Stored(ids[i].second);
        if (!s.ok() && s.status().code() != StatusCode::kNotFound) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Exercises every read path; any result is fine as long as nothing crashes
// and errors are kDataLoss.
void ReadEverything(const SegmentReader& r) {
  auto check = [](const Status& s) {
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
    }
  };
  for (uint32_t d = 0; d < r.num_docs(); ++d) {
    auto id = r.DocId(d);
    check(id.status());
    if (id.ok()) check(r.FindDoc(*id).status());
    check(r.IsTombstone(d).status());
    check(r.Stored(d).status());
  }
  std::vector<std::string> terms;
  check(r.ForEachTerm([&](std::string_view t, uint32_t) { terms.emplace_back(t); }));
  for (const auto& t : terms) check(r.Postings(t).status());
  check(r.Postings(MakeTerm("title", "w0")).status());
  check(r.ForEachDoc([](uint32_t, std::string_view, bool, std::string_view) { return Status::Ok(); }));
  check(r.ForEachPostingList([](std::string_view, const std::vector<uint32_t>&) { return Status::Ok(); }));
}

FileMap SmallCorpus() {
  Model m = RandomModel(9, 12, 0.25);
  for (auto& d : m.added) {
    if (d.terms.size() > 5) {
      const std::vector<std::string> first(d.terms.begin(), d.terms.begin() + 5);
      d.terms.clear();
      for (const std::string& t : first) d.terms.push_back(t);
    }
    if (d.stored.size() > 40) d.stored = std::string(60, 'y');  // compressible, one LZ4 block
  }
  auto files = Build(m.added, Tiny());
  EXPECT_TRUE(files.ok());
  return *files;
}

TEST(SegmentCorruptionTest, EveryByteFlipIsDetected) {
  const FileMap good = SmallCorpus();
  for (const auto& [name, bytes] : good) {
    SCOPED_TRACE(name);
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (unsigned char mask : {0x01, 0x80}) {
        FileMap bad = good;
        bad[name][i] = static_cast<char>(bad[name][i] ^ mask);
        auto r = OpenMap(bad);
        if (!r.ok()) {
          ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << i << " " << r.status().ToString();
          continue;
        }
        ReadEverything(**r);
        Status v = (*r)->Verify();
        ASSERT_EQ(v.code(), StatusCode::kDataLoss) << name << " byte " << i << " mask " << int(mask);
      }
    }
  }
}

// With checksums recomputed, a flipped byte may even yield a valid segment
// (e.g. inside stored JSON); what must hold is that errors are kDataLoss and
// that a segment passing Verify() reads back without errors.
TEST(SegmentCorruptionTest, ResealedByteFlipsAreCaughtByStructureChecks) {
  const FileMap good = SmallCorpus();
  int opened = 0, verified = 0, total = 0;
  for (const auto& [name, bytes] : good) {
    for (size_t i = 0; i + kSegmentFooterSize < bytes.size(); ++i) {
      for (unsigned char mask : {0x01, 0x04, 0x80}) {
        FileMap bad = good;
        bad[name][i] = static_cast<char>(bad[name][i] ^ mask);
        testing_index::Reseal(&bad[name]);
        ++total;
        auto r = OpenMap(bad);
        if (!r.ok()) {
          ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
          continue;
        }
        ++opened;
        Status v = (*r)->Verify();
        ASSERT_TRUE(v.ok() || v.code() == StatusCode::kDataLoss) << v.ToString();
        if (!v.ok()) {
          ReadEverything(**r);
          continue;
        }
        ++verified;
        for (uint32_t d = 0; d < (*r)->num_docs(); ++d) {
          auto id = (*r)->DocId(d);
          ASSERT_TRUE(id.ok()) << name << " " << i << ": " << id.status().ToString();
          ASSERT_EQ(*(*r)->FindDoc(*id), d);
          ASSERT_TRUE((*r)->IsTombstone(d).ok());
          auto st = (*r)->Stored(d);
          ASSERT_TRUE(st.ok() || st.status().code() == StatusCode::kNotFound) << st.status().ToString();
        }
        Status each = (*r)->ForEachTerm([&](std::string_view t, uint32_t df) {
          auto p = (*r)->Postings(t);
          ASSERT_TRUE(p.ok()) << p.status().ToString();
          ASSERT_EQ(p->size(), df);
        });
        ASSERT_TRUE(each.ok()) << each.ToString();
      }
    }
  }
  // Most flips must get past the checksums, or this test proves nothing.
  EXPECT_GT(opened, total / 4);
  RecordProperty("opened", opened);
  RecordProperty("verified", verified);
}

TEST(SegmentCorruptionTest, EveryTruncationIsDetected) {
  const FileMap good = SmallCorpus();
  for (const auto& [name, bytes] : good) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      FileMap bad = good;
      bad[name].resize(n);
      auto r = OpenMap(bad);
      if (r.ok()) {
        ReadEverything(**r);
        ASSERT_EQ((*r)->Verify().code(), StatusCode::kDataLoss) << name << " truncated to " << n;
      } else {
        ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << name << " " << n;
      }
    }
    FileMap longer = good;
    longer[name] += "x";
    EXPECT_EQ(OpenMap(longer).status().code(), StatusCode::kDataLoss) << name;
  }
}

TEST(SegmentCorruptionTest, UnknownVersionIsRejected) {
  FileMap files = SmallCorpus();
  files["ids"][8] = 2;  // format_version
  auto r = OpenMap(files);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("version"));
}

// A spooled "stored" is the same file, never held by the writer, and gone
// from the scratch directory once the last SegmentFile holding it is.
TEST(SegmentTest, SpooledStoredIsTheSameFileAndLeavesNothingBehind) {
  Model m = RandomModel(12, 2000, 0.1);
  std::vector<IndexDoc> sorted;
  for (const auto& [id, d] : m.docs) sorted.push_back(d);
  testing::TempDir dir("spool");
  for (const SegmentWriterOptions& base : {SegmentWriterOptions{}, Tiny()}) {
    SegmentWriterOptions o = base;
    o.ids_ascending = true;
    auto in_memory = Build(sorted, o);
    ASSERT_TRUE(in_memory.ok());
    o.spool_dir = dir.Join("scratch");  // created on first use
    SegmentWriter w(o);
    for (const auto& d : sorted) w.Add(d);
    auto files = w.Finish();
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    for (const SegmentFile& f : *files) {
      EXPECT_NE(f.spool, nullptr) << f.name << ": every file spooled (ids and stored as the docs come)";
      Result<std::string> bytes = f.Contents();
      ASSERT_TRUE(bytes.ok());
      EXPECT_TRUE(*bytes == in_memory->at(f.name)) << f.name;
      EXPECT_EQ(f.size(), bytes->size());
      EXPECT_EQ(f.Xxh64(), Xxh64(*bytes)) << f.name;
    }
    EXPECT_TRUE(files->back().bytes.empty());
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(o.spool_dir), {}), 4);
    files = Status::Cancelled("dropped");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(o.spool_dir), {}), 0);
  }
}

// A writer past index_memory_bytes writes its index as sorted runs and
// merges them: the same files, whatever the limit, and no run left behind.
TEST(SegmentTest, PostingsRunsMergeToTheSameFiles) {
  Model m = RandomModel(13, 3000, 0.1);
  std::vector<IndexDoc> sorted;
  for (const auto& [id, d] : m.docs) sorted.push_back(d);
  testing::TempDir dir("runs");
  ThreadPool pool("segment", 2, 8);
  for (const SegmentWriterOptions& base : {SegmentWriterOptions{}, Tiny()}) {
    SegmentWriterOptions o = base;
    o.ids_ascending = true;
    auto want = Build(sorted, o);
    ASSERT_TRUE(want.ok());
    o.spool_dir = dir.Join("scratch");
    for (size_t limit : {size_t{1}, size_t{5000}, size_t{60000}, size_t{1} << 30}) {
      for (size_t threads : {size_t{1}, size_t{2}}) {
        SCOPED_TRACE("limit " + std::to_string(limit) + ", threads " + std::to_string(threads));
        o.index_memory_bytes = limit;
        o.threads = threads;
        o.pool = &pool;
        SegmentWriter w(o);
        // In batches, as the build adds them (a run ends between batches).
        for (size_t i = 0; i < sorted.size(); i += 97) {
          DocBatch batch;
          for (size_t j = i; j < std::min(sorted.size(), i + 97); ++j) batch.Add(sorted[j]);
          if (i % 2 == 0) batch.Seal();
          w.Add(batch);
        }
        const auto spooled = std::distance(std::filesystem::directory_iterator(o.spool_dir), {});
        if (limit <= 5000) {
          EXPECT_GT(spooled, 10) << "runs beside the ids and stored spools";
        } else if (limit > 60000) {
          EXPECT_EQ(spooled, 2) << "the ids and stored spools only";
        }
        auto files = w.Finish();
        ASSERT_TRUE(files.ok()) << files.status().ToString();
        EXPECT_TRUE(testing_index::ToMap(*files) == *want);
        EXPECT_EQ(w.stats().terms, (*OpenMap(*want))->stats().terms);
        files = Status::Cancelled("dropped");
        EXPECT_EQ(std::distance(std::filesystem::directory_iterator(o.spool_dir), {}), 0);
      }
    }
  }
}

TEST(SegmentTest, AnUnusableSpoolDirFailsFinishNamingIt) {
  testing::TempDir dir("spool");
  SegmentWriterOptions o;
  o.ids_ascending = true;
  o.spool_dir = dir.Join("file/below");
  { std::ofstream(dir.Join("file")) << "not a directory"; }
  SegmentWriter w(o);
  w.Add(Doc("a", {MakeTerm("f", "x")}, "{}"));
  auto files = w.Finish();
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(files.status().message(), ::testing::HasSubstr(dir.Join("file/below")));
}

}  // namespace
}  // namespace freshet
