#include "actors/folder_listing_cache.h"

#include <gtest/gtest.h>

namespace freshet {
namespace {

using std::chrono::minutes;
const TimePoint kT14 = FromUnixMillis(1'763'820'000'000);  // 2025-11-22T14:00:00Z

PartitionLayout Layout() { return PartitionLayout::Create("%Y/%m/%d/%H/%M", minutes(5)).value(); }

ObjectInfo Obj(const PartitionLayout& l, TimePoint t, const std::string& name) {
  return {"updates/" + l.Format(t) + name, 10, "e"};
}

TEST(FolderListingCacheTest, FreezesSettledFoldersAndListsOnlyAfterThem) {
  auto l = Layout();
  FolderListingCache c("updates/", l, minutes(7));  // 5m interval + 2m grace
  EXPECT_EQ(c.StartAfter(), "");
  c.Absorb({Obj(l, kT14, "a"), Obj(l, kT14 + minutes(5), "a")}, kT14 + minutes(8));
  ASSERT_EQ(c.Partitions().size(), 2u);
  EXPECT_EQ(*c.frozen_through(), kT14);  // 14:05 settles at 14:12
  std::string sa = c.StartAfter();
  EXPECT_GT(Obj(l, kT14 + minutes(5), "a").key, sa);
  EXPECT_LT(Obj(l, kT14, "zzz").key, sa);

  // The next listing starts after 14:00: it sees 14:05 again with a late object.
  c.Absorb({Obj(l, kT14 + minutes(5), "a"), Obj(l, kT14 + minutes(5), "b")}, kT14 + minutes(13));
  auto parts = c.Partitions();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].objects.size(), 1u);  // frozen 14:00 kept as it was
  EXPECT_EQ(parts[1].objects.size(), 2u);
  EXPECT_EQ(*c.frozen_through(), kT14 + minutes(5));
}

TEST(FolderListingCacheTest, AnUnchangedListingSharesTheSameReportAndMarkersAreLeftOut) {
  auto l = Layout();
  FolderListingCache c("updates/", l, minutes(7));
  ObjectInfo marker = Obj(l, kT14 + minutes(5), "_SUCCESS");
  marker.size = 0;
  c.Absorb({Obj(l, kT14, "a"), Obj(l, kT14 + minutes(5), "a"), marker}, kT14 + minutes(8));
  auto first = c.SharedPartitions();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].objects.size(), 1u) << "the marker is not an input";
  // Idle triggers: nothing new after the frozen mark (14:05 is re-listed as it was).
  c.Absorb({Obj(l, kT14 + minutes(5), "a"), marker}, kT14 + minutes(9));
  EXPECT_EQ(c.SharedPartitions().get(), first.get()) << "an idle trigger copies a pointer, not the history";
  c.Absorb({Obj(l, kT14 + minutes(5), "a")}, kT14 + minutes(13));  // 14:05 freezes (settled at 14:12)
  EXPECT_EQ(c.SharedPartitions().get(), first.get());
  c.Absorb({}, kT14 + minutes(14));  // nothing after the frozen 14:05
  EXPECT_EQ(c.SharedPartitions().get(), first.get());
  // A new object is a new report.
  c.Absorb({Obj(l, kT14 + minutes(10), "a")}, kT14 + minutes(15));
  EXPECT_NE(c.SharedPartitions().get(), first.get());
  EXPECT_EQ(c.SharedPartitions()->size(), 3u);
  EXPECT_EQ(first->size(), 2u) << "a report already handed out never changes";
}

TEST(FolderListingCacheTest, LowerBoundDropsOldFoldersAndStartsBeforeTheBound) {
  auto l = Layout();
  FolderListingCache c("updates/", l, minutes(7));
  c.SetLowerBound(kT14 + minutes(12));  // floors to 14:10
  EXPECT_EQ(c.StartAfter(), "updates/" + l.Format(kT14 + minutes(10)).substr(0, 16));
  c.Absorb({Obj(l, kT14 + minutes(5), "a"), Obj(l, kT14 + minutes(10), "a")}, kT14 + minutes(11));
  auto parts = c.Partitions();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].time, kT14 + minutes(10));
  EXPECT_FALSE(c.frozen_through().has_value());
}

TEST(FolderListingCacheTest, AWholeRelistSeesFrozenFoldersChangeAndDropsVanishedOnes) {
  auto l = Layout();
  FolderListingCache c("updates/", l, minutes(7));
  c.SetLowerBound(kT14);
  c.Absorb({Obj(l, kT14, "a"), Obj(l, kT14 + minutes(5), "a"), Obj(l, kT14 + minutes(10), "a")},
           kT14 + minutes(30));
  ASSERT_EQ(*c.frozen_through(), kT14 + minutes(10));
  const std::string incremental = c.StartAfter();
  EXPECT_GT(incremental, Obj(l, kT14 + minutes(10), "zzz").key);

  c.RelistWhole();
  EXPECT_TRUE(c.relisting_whole());
  const std::string whole = c.StartAfter();
  EXPECT_LT(whole, Obj(l, kT14, "a").key);  // the lower bound's folder is listed again
  // 14:00 gained a late object, 14:05's object was rewritten, 14:10 is gone.
  ObjectInfo rewritten = Obj(l, kT14 + minutes(5), "a");
  rewritten.etag = "e2";
  c.Absorb({Obj(l, kT14, "a"), Obj(l, kT14, "late"), rewritten}, kT14 + minutes(31));
  EXPECT_FALSE(c.relisting_whole());
  auto parts = c.Partitions();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].objects.size(), 2u);
  EXPECT_EQ(parts[0].objects[1].key, Obj(l, kT14, "late").key);
  EXPECT_EQ(parts[1].objects, std::vector<ObjectInfo>{rewritten});
  // Frozen stays frozen: the next listing is incremental again.
  EXPECT_EQ(c.StartAfter(), incremental);
}

TEST(FolderListingCacheTest, CountsKeysOutsideTheLayout) {
  auto l = Layout();
  FolderListingCache c("updates/", l, minutes(7));
  c.Absorb({{"updates/README", 3, "e"}, {"updates/2025/13/01/00/00/x", 3, "e"}, Obj(l, kT14, "a")}, kT14);
  EXPECT_EQ(c.unparsed(), 2u);
  EXPECT_EQ(c.Partitions().size(), 1u);
}

}  // namespace
}  // namespace freshet
