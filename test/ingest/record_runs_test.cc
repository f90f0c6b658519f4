#include "ingest/record_runs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "ingest/entity_table.h"
#include "ingest/ingest_test_helpers.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Every field, so that a lossy run encoding shows.
std::string Show(const EntityRecord& r) {
  std::string s = std::to_string(r.level) + "/" + r.id + " p=" + r.parent_id + " v=" + std::to_string(r.version) +
                  (r.deleted ? " D" : "") + (r.active ? " A" : "") + (r.plain ? " P" : "") + " t=" + std::to_string(r.tiebreak) + " " +
                  r.source + ":" + std::to_string(r.line) + " " + r.fields_json + " spans";
  for (const ValueSpan& v : r.fields) s += " " + std::to_string(v.offset) + "+" + std::to_string(v.length);
  return s;
}

// Ads, ad groups and campaigns over few ids, so most keys repeat, with
// competing versions and byte-identical copies in other objects.
std::vector<EntityRecord> RandomRecords(uint32_t seed, size_t objects, size_t lines) {
  std::mt19937 rng(seed);
  std::vector<EntityRecord> all;
  for (size_t o = 0; o < objects; ++o) {
    std::string ndjson;
    for (size_t l = 0; l < lines; ++l) {
      const int kind = static_cast<int>(rng() % 3);
      const std::string id = std::to_string(rng() % 200);
      const std::string version = std::to_string(rng() % 4);
      if (kind == 0) {
        ndjson += R"({"type":"campaign","id":"c)" + id + R"(","version":)" + version + R"(,"status":"ACTIVE"})";
      } else if (kind == 1) {
        ndjson += R"({"type":"ad_group","id":"g)" + id + R"(","version":)" + version + R"(,"campaign_id":"c)" +
                  std::to_string(rng() % 20) + R"("})";
      } else {
        ndjson += R"({"type":"ad","id":"a)" + id + R"(","version":)" + version + R"(,"ad_group_id":"g)" +
                  std::to_string(rng() % 50) + R"(","title":"t )" + std::to_string(rng() % 3) +
                  (rng() % 7 == 0 ? R"(","deleted":true})" : R"("})");
      }
      ndjson += "\n";
    }
    std::vector<EntityRecord> part =
        testing_build::ParseAll(DefaultAdsSchema(), ndjson, "obj-" + std::to_string(o % 5));
    for (EntityRecord& r : part) all.push_back(std::move(r));
  }
  return all;
}

std::vector<std::string> Drain(SortedRecords& s) {
  std::vector<std::string> out;
  EntityRecord r;
  while (s.Next(&r)) out.push_back(Show(r));
  EXPECT_TRUE(s.status().ok()) << s.status().ToString();
  return out;
}

size_t Files(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(RecordRunsTest, TheStreamIsTheEntityTableWhateverTheLimitAndOrder) {
  const std::vector<EntityRecord> records = RandomRecords(7, 40, 100);
  const EntityTable table = EntityTable::Build(records);
  std::vector<std::string> want;
  for (const EntityRecord& r : table.records()) want.push_back(Show(r));
  ASSERT_GT(table.duplicates(), 1000u);

  for (size_t limit : {size_t{0}, size_t{2000}, size_t{50000}, size_t{1} << 30}) {
    for (uint32_t shuffle : {0u, 1u}) {
      SCOPED_TRACE("limit " + std::to_string(limit) + " shuffle " + std::to_string(shuffle));
      TempDir dir;
      const std::string scratch = dir.Join("scratch");
      std::vector<EntityRecord> input = records;
      if (shuffle) std::shuffle(input.begin(), input.end(), std::mt19937(shuffle));
      RecordSorter sorter({limit, scratch});
      // In chunks of uneven size, as parsed objects arrive.
      for (size_t i = 0; i < input.size();) {
        const size_t n = std::min(input.size() - i, 1 + (i * 7) % 300);
        std::vector<EntityRecord> chunk(std::make_move_iterator(input.begin() + static_cast<long>(i)),
                                        std::make_move_iterator(input.begin() + static_cast<long>(i + n)));
        ASSERT_TRUE(sorter.Add(&chunk).ok());
        EXPECT_TRUE(chunk.empty());
        i += n;
      }
      if (limit == 2000) {
        EXPECT_GT(sorter.runs_written(), 100u);
        EXPECT_GT(sorter.bytes_written(), 0u);
      }
      if (limit == 0 || limit == (size_t{1} << 30)) {
        EXPECT_EQ(sorter.runs_written(), 0u);
      }
      EXPECT_EQ(Files(scratch), sorter.runs_written());
      auto stream = sorter.Finish();
      ASSERT_TRUE(stream.ok()) << stream.status().ToString();
      EXPECT_EQ(Drain(**stream), want);
      EXPECT_EQ((*stream)->duplicates(), table.duplicates());
      EXPECT_EQ(Files(scratch), 0u) << "a run is removed once read to its end";
      stream->reset();
    }
  }
}

TEST(RecordRunsTest, AStreamDroppedPartWayRemovesItsRuns) {
  TempDir dir;
  const std::string scratch = dir.Join("scratch");
  RecordSorter sorter({1000, scratch});
  std::vector<EntityRecord> records = RandomRecords(3, 5, 50);
  ASSERT_TRUE(sorter.Add(&records).ok());
  ASSERT_GT(sorter.runs_written(), 0u);
  auto stream = sorter.Finish();
  ASSERT_TRUE(stream.ok());
  EntityRecord r;
  ASSERT_TRUE((*stream)->Next(&r));
  EXPECT_GT(Files(scratch), 0u);
  stream->reset();
  EXPECT_EQ(Files(scratch), 0u);
}

// The parse hands each chunk's record array over: emptied, it must not keep
// its capacity (`v = {}` does), or every chunk's array stays allocated
// until the whole snapshot is parsed (960 MB at 5M documents).
TEST(RecordRunsTest, AddFreesTheCallersArray) {
  for (size_t limit : {size_t{0}, size_t{1000}}) {
    TempDir dir;
    RecordSorter sorter({limit, dir.Join("scratch")});
    std::vector<EntityRecord> records = RandomRecords(4, 2, 100);
    ASSERT_GT(records.capacity(), 0u);
    ASSERT_TRUE(sorter.Add(&records).ok());
    EXPECT_TRUE(records.empty());
    EXPECT_EQ(records.capacity(), 0u) << "limit " << limit;
  }
}

// in_key_order says whether the input needed the sort: (level, id) never
// decreasing over every Add, equal keys allowed.
TEST(RecordRunsTest, TheSorterTellsWhetherItsInputCameInKeyOrder) {
  std::vector<EntityRecord> records = RandomRecords(6, 3, 200);
  std::stable_sort(records.begin(), records.end(),
                   [](const EntityRecord& a, const EntityRecord& b) { return CompareKeys(a, b) < 0; });
  ASSERT_GT(records.size(), 100u);
  size_t repeats = 0;
  for (size_t i = 1; i < records.size(); ++i) repeats += CompareKeys(records[i - 1], records[i]) == 0;
  ASSERT_GT(repeats, 10u) << "keys repeat";
  {
    RecordSorter sorter({0, ""});
    std::vector<EntityRecord> a(records.begin(), records.begin() + 50), b(records.begin() + 50, records.end());
    ASSERT_TRUE(sorter.Add(&a).ok());
    ASSERT_TRUE(sorter.Add(&b).ok());
    EXPECT_TRUE(sorter.in_key_order());
  }
  // Across two Adds, and within one.
  for (size_t swap_at : {size_t{49}, size_t{70}}) {
    std::vector<EntityRecord> copy = records;
    size_t next = swap_at + 1;
    while (CompareKeys(copy[swap_at], copy[next]) == 0) ++next;
    std::swap(copy[swap_at], copy[next]);
    RecordSorter sorter({0, ""});
    std::vector<EntityRecord> a(copy.begin(), copy.begin() + 50), b(copy.begin() + 50, copy.end());
    ASSERT_TRUE(sorter.Add(&a).ok());
    ASSERT_TRUE(sorter.Add(&b).ok());
    EXPECT_FALSE(sorter.in_key_order()) << swap_at;
  }
}

TEST(RecordRunsTest, ASorterDroppedBeforeFinishRemovesItsRuns) {
  TempDir dir;
  const std::string scratch = dir.Join("scratch");
  {
    RecordSorter sorter({1000, scratch});
    std::vector<EntityRecord> records = RandomRecords(3, 5, 50);
    ASSERT_TRUE(sorter.Add(&records).ok());
    ASSERT_GT(sorter.runs_written(), 0u);
    EXPECT_GT(Files(scratch), 0u);
  }
  EXPECT_EQ(Files(scratch), 0u);
}

TEST(RecordRunsTest, ADamagedRunFailsTheStreamNamingTheFile) {
  TempDir dir;
  const std::string scratch = dir.Join("scratch");
  RecordSorter sorter({4000, scratch});
  std::vector<EntityRecord> records = RandomRecords(5, 20, 100);
  ASSERT_TRUE(sorter.Add(&records).ok());
  ASSERT_GT(sorter.runs_written(), 2u);
  // Flip a byte in the middle of the first run (written first: lowest counter).
  std::vector<fs::path> runs(fs::directory_iterator(scratch), fs::directory_iterator{});
  std::sort(runs.begin(), runs.end());
  const fs::path victim = runs.front();
  std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
  const auto size = static_cast<std::streamoff>(fs::file_size(victim));
  f.seekg(size / 2);
  char c = 0;
  f.read(&c, 1);
  f.seekp(size / 2);
  c = static_cast<char>(c ^ 0x5a);
  f.write(&c, 1);
  f.close();
  auto stream = sorter.Finish();
  Status st = stream.ok() ? Status() : stream.status();
  if (stream.ok()) {
    EntityRecord r;
    while ((*stream)->Next(&r)) {
    }
    st = (*stream)->status();
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("scratch run " + victim.string()), std::string::npos) << st.ToString();
}

TEST(RecordRunsTest, RunsNeedAScratchDirectory) {
  RecordSorter sorter({100, ""});
  std::vector<EntityRecord> records = RandomRecords(1, 1, 20);
  const Status st = sorter.Add(&records);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_FALSE(sorter.Finish().ok());
}

TEST(RecordRunsTest, StartUpCleaningRemovesOnlyRunAndSpoolFiles) {
  TempDir dir;
  const std::string scratch = dir.Join("scratch");
  EXPECT_TRUE(RemoveScratchRuns(scratch).ok()) << "an absent directory is clean";
  fs::create_directories(scratch);
  // Above Linux's largest pid (2^22): no such process.
  const std::string dead = scratch + "/freshet-run-4194999-4.run";
  const std::string live = scratch + "/freshet-run-" + std::to_string(::getpid()) + "-4.run";
  std::ofstream(dead) << "left by a kill";
  std::ofstream(live) << "a running build's";
  std::ofstream(scratch + "/notes.txt") << "someone else's";
  const std::string dead_spool = scratch + "/freshet-spool-4194999-0.spool";
  const std::string live_spool = scratch + "/freshet-spool-" + std::to_string(::getpid()) + "-0.spool";
  std::ofstream(dead_spool) << "a full's stored file, left by a kill";
  std::ofstream(live_spool) << "a running commit's";
  ASSERT_TRUE(RemoveScratchRuns(scratch).ok());
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_FALSE(fs::exists(dead_spool));
  EXPECT_TRUE(fs::exists(live_spool));
  EXPECT_TRUE(fs::exists(scratch + "/notes.txt"));
}

}  // namespace
}  // namespace freshet
