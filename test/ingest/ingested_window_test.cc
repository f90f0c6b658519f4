// IngestedWindow's diff against a newer listing, and how ClassifyChanges
// reads it: late objects, rewritten ones, vanished ones, and objects the
// window merely slid past.
#include "ingest/ingested_window.h"

#include <gtest/gtest.h>

#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::minutes;

// Keys "p<minute>/<name>": the partition is kT0 + <minute> minutes.
ObjectInfo Obj(int minute, const std::string& name, const std::string& etag = "e1") {
  return {"p" + std::to_string(minute) + "/" + name, 10, etag};
}

std::optional<TimePoint> PartitionOf(std::string_view key) {
  if (!key.starts_with("p")) return std::nullopt;
  const size_t slash = key.find('/');
  return kT0 + minutes(std::stoi(std::string(key.substr(1, slash - 1))));
}

// Holds `objects` (no records: the classification is about objects).
IngestedWindow Holding(const std::vector<ObjectInfo>& objects) {
  IngestedWindow w;
  WindowDiff all;
  all.fetch = objects;
  w.Apply(all, DecodedInput{});
  return w;
}

TEST(IngestedWindowTest, DiffFetchesWhatIsNotHeldAndDropsWhatIsNotListed) {
  IngestedWindow w = Holding({Obj(10, "a"), Obj(10, "b"), Obj(15, "a")});
  WindowDiff d = w.Diff({Obj(15, "a"), Obj(10, "a", "e2"), Obj(20, "a")});
  ASSERT_EQ(d.fetch.size(), 2u);
  EXPECT_EQ(d.fetch[0], Obj(10, "a", "e2"));
  EXPECT_EQ(d.fetch[1], Obj(20, "a"));
  ASSERT_EQ(d.removed.size(), 2u);
  EXPECT_EQ(d.removed[0], Obj(10, "a"));
  EXPECT_EQ(d.removed[1], Obj(10, "b"));
  EXPECT_TRUE(w.Diff({Obj(10, "a"), Obj(10, "b"), Obj(15, "a")}).empty());
}

TEST(IngestedWindowTest, ClassifiesLateRewrittenVanishedAndSlidPast) {
  // Committed through 00:15; the window now starts at 00:10 and reaches 00:20.
  IngestedWindow w = Holding({Obj(5, "a"), Obj(10, "a"), Obj(10, "b"), Obj(15, "a")});
  WindowDiff d = w.Diff({Obj(10, "a", "e2"),  // rewritten
                         Obj(15, "a"),
                         Obj(15, "late"),     // late: 00:15 was committed
                         Obj(20, "a")});      // new partition: on time
  // 00:05 "a" slid out of the window; 00:10 "b" vanished inside it.
  SourceChanges c = ClassifyChanges(d, PartitionOf, kT0 + minutes(10), kT0 + minutes(15));
  EXPECT_EQ(c.late, 1u);
  EXPECT_EQ(c.rewritten, 1u);
  EXPECT_EQ(c.vanished, 1u);
  EXPECT_EQ(c.changed(), 2u);
  EXPECT_EQ(c.first_late, "p15/late");
  EXPECT_EQ(c.first_changed, "p10/a");

  // Before any commit nothing is late; keys outside the layout are never classified.
  c = ClassifyChanges(d, PartitionOf, kT0 + minutes(10), std::nullopt);
  EXPECT_EQ(c.late, 0u);
  WindowDiff odd;
  odd.fetch = {{"elsewhere/x", 1, "e"}};
  odd.removed = {{"elsewhere/y", 1, "e"}};
  c = ClassifyChanges(odd, PartitionOf, kT0, kT0 + minutes(30));
  EXPECT_EQ(c.late + c.changed(), 0u);
}

}  // namespace
}  // namespace freshet
