// The reader fetches only the blocks a lookup needs, through ranged GETs.
#include <atomic>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "freshet/reader.h"
#include "reader/reader_internals.h"
#include "reader/sink_fixture.h"

namespace freshet {
namespace {

using reader_test::Doc;
using reader_test::GenerationSpec;
using reader_test::WriteCurrent;
using reader_test::WriteGeneration;

// Counts GETs and the body bytes they return; refuses whole-object GETs of
// segment files, so any "load it all" shortcut fails loudly.
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}
  void List(ListRequest req, StoreCallback<ListPage> done) override { inner_->List(std::move(req), std::move(done)); }
  void Get(GetRequest req, StoreCallback<GetResult> done) override {
    ++gets;
    const bool is_segment_file = req.key.find("/manifest.json") == std::string::npos && req.key != "CURRENT";
    if (is_segment_file && !req.range) {
      ++whole_gets;
    }
    inner_->Get(std::move(req), [this, done = std::move(done)](Result<GetResult> r) {
      if (r.ok()) bytes += r->body.size();
      done(std::move(r));
    });
  }
  void Head(std::string key, StoreCallback<ObjectInfo> done) override {
    ++heads;
    inner_->Head(std::move(key), std::move(done));
  }
  void Put(PutRequest req, StoreCallback<ObjectInfo> done) override { inner_->Put(std::move(req), std::move(done)); }
  void Delete(std::string key, StoreCallback<Unit> done) override { inner_->Delete(std::move(key), std::move(done)); }
  std::string Describe() const override { return "counting:" + inner_->Describe(); }

  std::atomic<uint64_t> gets{0}, whole_gets{0}, heads{0}, bytes{0};

 private:
  std::shared_ptr<ObjectStore> inner_;
};

std::string Pad(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "ad-%06d", i);
  return buf;
}

TEST(ReaderRangedReadTest, PointQueryFetchesAFewBlocksNotWholeFiles) {
  auto mem = std::make_shared<MemoryStore>();
  GenerationSpec full{.id = "full/20261122T120000Z-00000000000000aa"};
  const char* words[] = {"red", "blue", "shoes", "boots", "hat", "scarf", "wool", "leather", "summer", "winter"};
  for (int i = 0; i < 20000; ++i) {
    Doc d;
    d.id = Pad(i);
    d.fields["title"] = {std::string(words[i % 10]) + " " + words[(i / 10) % 10] + " item" + std::to_string(i)};
    d.fields["description"] = {"A fairly long description so that the stored file spans many blocks, number " +
                               std::to_string(i * 7919)};
    d.fields["country"] = {i % 2 ? "DE" : "FR"};
    d.fields["tags"] = {"sku" + std::to_string(i)};
    full.docs.push_back(std::move(d));
  }
  auto files = WriteGeneration(*mem, full);
  WriteCurrent(*mem, full.id, "", FromUnixMillis(0));
  uint64_t total = 0;
  for (const auto& [name, bytes] : files) total += bytes.size();
  ASSERT_GT(total, 1'000'000u);

  auto counting = std::make_shared<CountingStore>(mem);
  auto r = ReaderInternals::OpenOnStore(counting);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t open_bytes = counting->bytes;
  // Opening reads headers, footers and sparse indexes only (about 15% here:
  // tiny docs, so the ids and terms indexes are dense).
  EXPECT_LT(open_bytes, total / 4) << "open read " << open_bytes << " of " << total;

  counting->gets = 0;
  counting->bytes = 0;
  auto q = ParseQuery({"tags:sku12345"}, false);
  ASSERT_TRUE(q.ok());
  auto ids = (*r)->Search(*q);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_THAT(*ids, ::testing::ElementsAre("ad-012345"));
  auto doc = (*r)->Get("ad-012345");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_THAT(**doc, ::testing::HasSubstr("item12345"));

  // One terms block, one postings block, one ids block, one stored block
  // (some possibly shared or cached): a handful of small ranged GETs.
  EXPECT_LE(counting->gets, 8u);
  EXPECT_LT(counting->bytes, 64u * 1024) << "of " << total;
  EXPECT_EQ(counting->whole_gets, 0u);
  EXPECT_EQ(counting->heads, 0u);  // sizes come from the manifest
  std::cout << "open: " << open_bytes << " bytes; point query: " << counting->gets << " GETs, " << counting->bytes
            << " bytes; files: " << total << " bytes\n";
}

}  // namespace
}  // namespace freshet
