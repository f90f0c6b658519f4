#include "plan/batch_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "base/clock.h"
#include "plan/partition_layout.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using testing::T;
// Times of day on 2026-11-22, the day most tests run on.
TimePoint At(std::string_view hh_mm) { return T("2026-11-22T" + std::string(hh_mm) + ":00Z"); }

const PartitionLayout& Layout() {
  static const PartitionLayout layout = *PartitionLayout::Create("%Y/%m/%d/%H/%M", minutes(5));
  return layout;
}

// A partition with `n` objects named like the Lister reports them.
PartitionListing Part(TimePoint t, int n = 2) {
  PartitionListing p{t, {}};
  for (int i = 0; i < n; ++i) {
    p.objects.push_back(
        {"updates/" + Layout().Format(t) + "part-" + std::to_string(i) + ".json", 100u + i, "etag" + std::to_string(i)});
  }
  return p;
}
std::vector<PartitionListing> Parts(std::initializer_list<const char*> hh_mms) {
  std::vector<PartitionListing> out;
  for (const char* s : hh_mms) out.push_back(Part(At(s)));
  return out;
}
// Every 5m slot in [from, to].
std::vector<PartitionListing> Range(TimePoint from, TimePoint to) {
  std::vector<PartitionListing> out;
  for (TimePoint t = from; t <= to; t += minutes(5)) out.push_back(Part(t));
  return out;
}
SnapshotListing Snap(TimePoint t) {
  std::string dir = "snapshots/" + FormatRfc3339(t) + "/";
  return SnapshotListing{t, {{dir + "ads-0.json.lz4", 5000, "s0"}, {dir + "ads-1.json.lz4", 6000, "s1"}}};
}

PlannerConfig Config(PlanPolicy policy = PlanPolicy::kLatest) {
  PlannerConfig c;  // 5m interval, 2m grace, 2m snapshot grace, 10m overlap, 12h max window
  c.policy = policy;
  c.salt = "schema:abc/format:1";
  return c;
}

// The checkpoint after a full build from the 12:00 snapshot, committed up to `watermark`.
Checkpoint Committed(std::optional<TimePoint> watermark, TimePoint base = At("12:00")) {
  Checkpoint cp;
  cp.watermark = watermark;
  cp.base_snapshot = base;
  cp.base_generation = FullGenerationId(Config().salt, base, Snap(base).objects);
  cp.delta_generation = "delta/previous";
  cp.build_salt = Config().salt;
  cp.next_batch_id = 7;
  return cp;
}

// By value: the decision is usually a temporary.
BuildPlan MustBuild(const PlanDecision& d) {
  if (!d.build()) {
    ADD_FAILURE() << "expected a build, got idle: " << d.idle()->reason;
    return BuildPlan{};
  }
  return *d.build();
}
IdleDecision MustIdle(const PlanDecision& d) {
  if (!d.idle()) {
    ADD_FAILURE() << "expected idle, got a build of target "
                  << (d.build()->target ? FormatRfc3339(*d.build()->target) : "none");
    return IdleDecision{};
  }
  return *d.idle();
}

// `prefix` then exactly 16 lowercase hex digits. (No std::regex: g++ 12
// reports a false -Wmaybe-uninitialized inside it under ASan.)
bool IsGenerationId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 16 || id.substr(0, prefix.size()) != prefix) return false;
  return std::all_of(id.begin() + prefix.size(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<TimePoint> Times(std::initializer_list<const char*> hh_mms) {
  std::vector<TimePoint> out;
  for (const char* s : hh_mms) out.push_back(At(s));
  return out;
}

// --- eligibility ----------------------------------------------------------

TEST(BatchPlannerTest, EligibleExactlyAtEndPlusGrace) {
  // Partition 14:05 ends 14:10; with 2m grace it is eligible at 14:12:00.000.
  const Checkpoint cp = Committed(At("14:00"));
  const auto visible = Parts({"14:00", "14:05"});
  const auto snaps = std::vector<SnapshotListing>{Snap(At("12:00"))};

  const IdleDecision& idle = MustIdle(Plan(Config(), cp, visible, snaps, At("14:12") - milliseconds(1)));
  ASSERT_EQ(idle.pending.size(), 1u);
  EXPECT_EQ(idle.pending[0].time, At("14:05"));
  EXPECT_EQ(idle.pending[0].eligible_at, At("14:12"));
  EXPECT_EQ(idle.pending[0].reason, "not eligible until 2026-11-22T14:12:00Z (end 14:10 + grace 2m)");
  EXPECT_EQ(idle.pending[0].objects, 2u);
  EXPECT_EQ(idle.pending[0].bytes, 201u);

  const BuildPlan& plan = MustBuild(Plan(Config(), cp, visible, snaps, At("14:12")));
  EXPECT_EQ(plan.target, At("14:05"));
  EXPECT_THAT(plan.pending, IsEmpty());
}

TEST(BatchPlannerTest, ZeroGraceMeansEligibleAtTheEnd) {
  PlannerConfig c = Config();
  c.grace = Duration(0);
  const auto snaps = std::vector<SnapshotListing>{Snap(At("12:00"))};
  EXPECT_TRUE(Plan(c, Committed(At("14:00")), Parts({"14:05"}), snaps, At("14:10")).build());
  EXPECT_TRUE(Plan(c, Committed(At("14:00")), Parts({"14:05"}), snaps, At("14:10") - milliseconds(1)).idle());
}

// --- idle reasons -----------------------------------------------------------

struct IdleCase {
  const char* name;
  std::optional<TimePoint> watermark;
  std::vector<PartitionListing> visible;
  TimePoint now;
  const char* reason;
};

// WaitingSince feeds the Watchdog's health rule: the oldest new input's
// eligibility for a build, nothing for a quiet idle.
TEST(BatchPlannerTest, WaitingSinceIsTheOldestNewInputsEligibility) {
  const PlannerConfig c = Config();
  // Watermark 12:30; 12:35 and 12:40 are new and eligible at 12:52.
  PlanDecision d = Plan(c, Committed(At("12:30")), Parts({"12:25", "12:30", "12:35", "12:40"}), {Snap(At("12:00"))},
                        At("12:52"));
  ASSERT_TRUE(d.build());
  EXPECT_EQ(WaitingSince(d, c, At("12:52")), At("12:42")) << "12:35 ended 12:40, + 2m grace";
  // Nothing newer than the watermark: a quiet source waits for nothing.
  d = Plan(c, Committed(At("12:40")), Parts({"12:35", "12:40"}), {Snap(At("12:00"))}, At("13:30"));
  ASSERT_TRUE(d.idle());
  EXPECT_EQ(WaitingSince(d, c, At("13:30")), std::nullopt);
  // The first full build: no partitions, the snapshot waits since 12:02.
  d = Plan(c, Checkpoint{}, {}, {Snap(At("12:00"))}, At("12:10"));
  ASSERT_TRUE(d.build());
  EXPECT_EQ(WaitingSince(d, c, At("12:10")), At("12:02"));
}

TEST(BatchPlannerTest, IdleReasons) {
  const IdleCase cases[] = {
      {"nothing newer, one pending", At("14:05"), Parts({"14:00", "14:05", "14:10"}), At("14:16"),
       "no eligible partition newer than watermark 2026-11-22T14:05:00Z; 1 pending: 2026-11-22T14:10:00Z not "
       "eligible until 2026-11-22T14:17:00Z (end 14:15 + grace 2m)"},
      {"nothing newer, nothing pending", At("14:05"), Parts({"14:00", "14:05"}), At("15:00"),
       "no eligible partition newer than watermark 2026-11-22T14:05:00Z"},
      {"two pending", At("14:05"), Parts({"14:10", "14:15"}), At("14:16"),
       "no eligible partition newer than watermark 2026-11-22T14:05:00Z; 2 pending: 2026-11-22T14:10:00Z not "
       "eligible until 2026-11-22T14:17:00Z (end 14:15 + grace 2m) (and 1 newer)"},
      {"watermark newer than everything", At("14:30"), Parts({"14:00", "14:05"}), At("15:00"),
       "no eligible partition newer than watermark 2026-11-22T14:30:00Z"},
      {"nothing visible", std::nullopt, {}, At("15:00"), "no partition visible yet"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Checkpoint cp = Committed(c.watermark);
    const IdleDecision& idle = MustIdle(Plan(Config(), cp, c.visible, {Snap(At("12:00"))}, c.now));
    EXPECT_EQ(idle.reason, c.reason);
    EXPECT_FALSE(idle.blocked);
  }
}

TEST(BatchPlannerTest, IdleBeforeAnythingIsEligibleWithoutSnapshots) {
  const IdleDecision& idle = MustIdle(Plan(Config(), Checkpoint{}, Parts({"14:00"}), {}, At("14:06")));
  EXPECT_THAT(idle.reason, StartsWith("no eligible partition yet; 1 pending: 2026-11-22T14:00:00Z"));
}

TEST(BatchPlannerTest, PendingSnapshotIsReported) {
  const Checkpoint cp = Committed(At("14:05"));
  const IdleDecision& idle =
      MustIdle(Plan(Config(), cp, Parts({"14:05"}), {Snap(At("12:00")), Snap(At("14:15"))}, At("14:16")));
  ASSERT_EQ(idle.pending_snapshots.size(), 1u);
  EXPECT_EQ(idle.pending_snapshots[0].reason,
            "not eligible until 2026-11-22T14:17:00Z (snapshot 14:15 + snapshot grace 2m)");
  EXPECT_EQ(idle.pending_snapshots[0].bytes, 11000u);
  EXPECT_THAT(idle.reason, HasSubstr("; snapshot 2026-11-22T14:15:00Z not eligible until"));
}

// --- target selection --------------------------------------------------------

struct TargetCase {
  const char* name;
  PlanPolicy policy;
  std::optional<TimePoint> watermark;
  std::vector<PartitionListing> visible;
  TimePoint now;
  TimePoint target;
  std::vector<TimePoint> skipped;
  size_t backlog = 0;
};

TEST(BatchPlannerTest, LatestVersusSequential) {
  const TargetCase cases[] = {
      {"latest jumps, records skipped", PlanPolicy::kLatest, At("14:00"), Parts({"14:00", "14:05", "14:10", "14:15"}),
       At("14:22"), At("14:15"), Times({"14:05", "14:10"})},
      {"sequential takes the oldest", PlanPolicy::kSequential, At("14:00"),
       Parts({"14:00", "14:05", "14:10", "14:15"}), At("14:22"), At("14:05"), {}, 2},
      {"latest ignores the pending one", PlanPolicy::kLatest, At("14:00"), Parts({"14:05", "14:10", "14:15"}),
       At("14:21"), At("14:10"), Times({"14:05"})},
      {"latest with gaps skips only what exists", PlanPolicy::kLatest, At("14:00"), Parts({"14:05", "14:20"}),
       At("14:30"), At("14:20"), Times({"14:05"})},
      {"sequential with gaps takes the next that exists", PlanPolicy::kSequential, At("14:00"),
       Parts({"14:20", "14:25"}), At("14:40"), At("14:20"), {}, 1},
      {"latest with no watermark", PlanPolicy::kLatest, std::nullopt, Parts({"13:55", "14:00", "14:05"}),
       At("14:30"), At("14:05"), Times({"13:55", "14:00"})},
      {"sequential with no watermark", PlanPolicy::kSequential, std::nullopt, Parts({"13:55", "14:00"}),
       At("14:30"), At("13:55"), {}, 1},
      {"unsorted, duplicated listing", PlanPolicy::kLatest, At("14:00"),
       Parts({"14:15", "14:05", "14:10", "14:05"}), At("14:30"), At("14:15"), Times({"14:05", "14:10"})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const BuildPlan& plan =
        MustBuild(Plan(Config(c.policy), Committed(c.watermark), c.visible, {Snap(At("12:00"))}, c.now));
    EXPECT_EQ(plan.kind, BatchKind::kDelta);
    EXPECT_EQ(plan.target, c.target);
    EXPECT_EQ(plan.skipped, c.skipped);
    EXPECT_EQ(plan.backlog, c.backlog);
    EXPECT_EQ(plan.batch_id, 7u);
    EXPECT_EQ(plan.previous_watermark, c.watermark);
  }
}

TEST(BatchPlannerTest, WatermarkNeverRegresses) {
  // Only older partitions are eligible; a newer one is pending: never plan backwards.
  const IdleDecision& idle = MustIdle(
      Plan(Config(), Committed(At("14:15")), Parts({"14:05", "14:10", "14:20"}), {Snap(At("12:00"))}, At("14:26")));
  EXPECT_EQ(idle.pending.size(), 1u);
  // A partition that appears late, below the watermark, is not a target either.
  EXPECT_TRUE(
      Plan(Config(PlanPolicy::kSequential), Committed(At("14:15")), Parts({"14:10"}), {Snap(At("12:00"))}, At("15:00"))
          .idle());
}

// --- window --------------------------------------------------------------------

TEST(BatchPlannerTest, WindowReachesBackToBaseMinusOverlap) {
  struct Case {
    Duration overlap;
    TimePoint start;
    TimePoint first_partition;
  } cases[] = {
      {minutes(10), At("11:50"), At("11:50")},
      {minutes(7), At("11:50"), At("11:50")},  // 11:53 falls in the 11:50 slot
      {minutes(5), At("11:55"), At("11:55")},
      {Duration(0), At("12:00"), At("12:00")},  // the slot the snapshot falls in is still read
      {hours(1), At("11:00"), At("11:30")},     // nothing older is visible: a gap at the start
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.overlap.count());
    PlannerConfig config = Config();
    config.overlap = c.overlap;
    const auto visible = Range(At("11:30"), At("14:15"));
    const BuildPlan& plan = MustBuild(Plan(config, Committed(At("14:00")), visible, {Snap(At("12:00"))}, At("14:30")));
    EXPECT_EQ(plan.target, At("14:15"));
    EXPECT_EQ(plan.window_start, c.start);
    EXPECT_EQ(plan.window_end, At("14:20"));
    ASSERT_FALSE(plan.window_partitions.empty());
    EXPECT_EQ(plan.window_partitions.front(), c.first_partition);
    EXPECT_EQ(plan.window_partitions.back(), At("14:15"));
    EXPECT_EQ(plan.window_objects.size(), 2 * plan.window_partitions.size());
  }
}

TEST(BatchPlannerTest, WindowObjectsAreExactSortedAndFiltered) {
  PartitionListing p1 = Part(At("14:05"), 0);
  p1.objects = {{"updates/2026/11/22/14/05/b.json", 10, "b"},
                {"updates/2026/11/22/14/05/_SUCCESS", 0, "m"},
                {"updates/2026/11/22/14/05/_manifest", 12, "m"},
                {"updates/2026/11/22/14/05/.b.json.crc", 8, "c"},
                {"updates/2026/11/22/14/05/empty.json", 0, "e"},
                {"updates/2026/11/22/14/05/", 0, "dir"},
                {"updates/2026/11/22/14/05/a.json", 11, "a"}};
  PartitionListing p0 = Part(At("14:00"), 0);
  p0.objects = {{"updates/2026/11/22/14/00/z.json", 5, "z"}};
  PartitionListing p1_again{At("14:05"), {{"updates/2026/11/22/14/05/a.json", 11, "a"}}};
  const BuildPlan& plan =
      MustBuild(Plan(Config(), Committed(At("13:55")), {p1, p0, p1_again}, {Snap(At("12:00"))}, At("14:30")));
  EXPECT_THAT(plan.window_objects, ElementsAre(ObjectInfo{"updates/2026/11/22/14/00/z.json", 5, "z"},
                                               ObjectInfo{"updates/2026/11/22/14/05/a.json", 11, "a"},
                                               ObjectInfo{"updates/2026/11/22/14/05/b.json", 10, "b"}));
  EXPECT_EQ(plan.snapshot_objects, Snap(At("12:00")).objects);
}

TEST(BatchPlannerTest, WithoutASnapshotTheWindowStartsAtTheOldestPartition) {
  const BuildPlan& plan = MustBuild(Plan(Config(), Checkpoint{}, Parts({"13:00", "13:05", "14:00"}), {}, At("14:30")));
  EXPECT_EQ(plan.kind, BatchKind::kDelta);
  EXPECT_EQ(plan.window_start, At("13:00"));
  EXPECT_EQ(plan.window_end, At("14:05"));
  EXPECT_EQ(plan.window_partitions, Times({"13:00", "13:05", "14:00"}));
  EXPECT_EQ(plan.snapshot_time, std::nullopt);
  EXPECT_THAT(plan.snapshot_objects, IsEmpty());
  EXPECT_EQ(plan.full_generation, "");
  EXPECT_EQ(plan.batch_id, 1u);
}

TEST(BatchPlannerTest, WideWindowWarnsLoudlyAndStillBuildsComplete) {
  const auto visible = Range(At("00:00"), At("13:00"));
  const BuildPlan& plan = MustBuild(Plan(Config(), Checkpoint{}, visible, {}, At("14:00")));
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_THAT(plan.warnings[0], StartsWith("WINDOW TOO WIDE: the delta window 2026-11-22T00:00:00Z .. "
                                           "2026-11-22T13:05:00Z spans 13h5m, more than max_window 12h"));
  EXPECT_EQ(plan.window_partitions.size(), visible.size());

  // Exactly max_window is fine; 0 turns the warning off.
  PlannerConfig c = Config();
  c.max_window = hours(13) + minutes(5);
  EXPECT_THAT(MustBuild(Plan(c, Checkpoint{}, visible, {}, At("14:00"))).warnings, IsEmpty());
  c.max_window = Duration(0);
  EXPECT_THAT(MustBuild(Plan(c, Checkpoint{}, visible, {}, At("14:00"))).warnings, IsEmpty());

  // An old base with a fresh watermark: the window is wide because snapshots stopped.
  const auto since_base = Range(At("01:00"), At("13:30"));
  const BuildPlan& old_base =
      MustBuild(Plan(Config(), Committed(At("13:25"), At("01:00")), since_base, {Snap(At("01:00"))}, At("14:00")));
  ASSERT_EQ(old_base.warnings.size(), 1u);
  EXPECT_THAT(old_base.warnings[0], HasSubstr("the base snapshot 2026-11-22T01:00:00Z is old"));
}

// --- full builds ---------------------------------------------------------------

TEST(BatchPlannerTest, NewEligibleSnapshotTriggersAFullBuild) {
  const Checkpoint cp = Committed(At("17:55"));
  const auto visible = Range(At("17:30"), At("18:10"));
  const std::vector<SnapshotListing> snaps = {Snap(At("12:00")), Snap(At("18:00"))};

  const BuildPlan& plan = MustBuild(Plan(Config(), cp, visible, snaps, At("18:17")));
  EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
  EXPECT_EQ(plan.full_reason, "new snapshot 2026-11-22T18:00:00Z (base 2026-11-22T12:00:00Z)");
  EXPECT_EQ(plan.snapshot_time, At("18:00"));
  EXPECT_EQ(plan.snapshot_objects, Snap(At("18:00")).objects);
  EXPECT_THAT(plan.full_generation, StartsWith("full/20261122T180000Z-"));
  EXPECT_NE(plan.full_generation, cp.base_generation);
  EXPECT_EQ(plan.target, At("18:10"));
  EXPECT_EQ(plan.skipped, Times({"18:00", "18:05"}));
  EXPECT_EQ(plan.window_start, At("17:50"));  // relative to the NEW base
  EXPECT_EQ(plan.window_partitions.front(), At("17:50"));
}

// Under sequential a new full jumps over the partitions its snapshot holds
// (ending before its window), recording them as skipped, instead of
// committing one empty-window batch for each.
TEST(BatchPlannerTest, SequentialFullJumpsOverWhatItsSnapshotHoldsAndRecordsIt) {
  const Checkpoint cp = Committed(At("17:20"));
  const auto visible = Range(At("17:00"), At("18:10"));
  const std::vector<SnapshotListing> snaps = {Snap(At("12:00")), Snap(At("18:00"))};

  const BuildPlan& plan = MustBuild(Plan(Config(PlanPolicy::kSequential), cp, visible, snaps, At("18:17")));
  EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
  // 17:25 .. 17:45 end by 17:50 (18:00 - 10m overlap): held by the snapshot.
  EXPECT_EQ(plan.skipped, Times({"17:25", "17:30", "17:35", "17:40", "17:45"}));
  EXPECT_EQ(plan.target, At("17:50"));
  EXPECT_EQ(plan.backlog, 4u);  // 17:55 .. 18:10, one batch each
  EXPECT_EQ(plan.window_start, At("17:50"));

  // Every eligible partition held by the snapshot: straight to the newest.
  const BuildPlan& all = MustBuild(Plan(Config(PlanPolicy::kSequential), cp, Range(At("17:00"), At("17:40")),
                                        snaps, At("18:17")));
  EXPECT_EQ(all.target, At("17:40"));
  EXPECT_EQ(all.skipped, Times({"17:25", "17:30", "17:35"}));
  EXPECT_EQ(all.backlog, 0u);

  // A delta batch (no new full) still takes one partition, skipping none.
  const BuildPlan& delta = MustBuild(Plan(Config(PlanPolicy::kSequential), cp, visible, {Snap(At("12:00"))},
                                          At("18:17")));
  EXPECT_EQ(delta.target, At("17:25"));
  EXPECT_TRUE(delta.skipped.empty());
}

// The manifest records the planner's warnings: they are part of the id, so
// a generation's bytes always follow from its id.
TEST(BatchPlannerTest, WarningsArePartOfTheDeltaId) {
  BuildPlan p;
  p.kind = BatchKind::kDelta;
  p.target = At("18:00");
  const std::string quiet = DeltaGenerationId(p);
  p.warnings = {"WINDOW TOO WIDE: ..."};
  const std::string loud = DeltaGenerationId(p);
  EXPECT_NE(quiet, loud);
  p.warnings = {"another warning"};
  EXPECT_NE(DeltaGenerationId(p), loud);
}

TEST(BatchPlannerTest, NotYetEligibleSnapshotKeepsTheOldBase) {
  PlannerConfig c = Config();
  c.snapshot_grace = minutes(10);  // 18:00 is eligible at 18:10; partition 18:00 at 18:07
  const Checkpoint cp = Committed(At("17:55"));
  const BuildPlan& plan =
      MustBuild(Plan(c, cp, Range(At("17:30"), At("18:00")), {Snap(At("12:00")), Snap(At("18:00"))}, At("18:07")));
  EXPECT_EQ(plan.target, At("18:00"));
  EXPECT_EQ(plan.kind, BatchKind::kDelta);
  EXPECT_EQ(plan.snapshot_time, At("12:00"));
  EXPECT_EQ(plan.snapshot_objects, Snap(At("12:00")).objects);
  EXPECT_EQ(plan.full_generation, cp.base_generation);
  EXPECT_EQ(plan.full_reason, "");
  ASSERT_EQ(plan.pending_snapshots.size(), 1u);
  EXPECT_EQ(plan.pending_snapshots[0].time, At("18:00"));
}

TEST(BatchPlannerTest, FullBuildWithNothingNewKeepsTheWatermark) {
  for (PlanPolicy policy : {PlanPolicy::kLatest, PlanPolicy::kSequential}) {
    const Checkpoint cp = Committed(At("18:10"));
    const BuildPlan& plan = MustBuild(
        Plan(Config(policy), cp, Range(At("17:30"), At("18:10")), {Snap(At("12:00")), Snap(At("18:00"))}, At("18:30")));
    EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
    EXPECT_EQ(plan.target, At("18:10"));
    EXPECT_THAT(plan.skipped, IsEmpty());
    EXPECT_EQ(plan.window_partitions, Times({"17:50", "17:55", "18:00", "18:05", "18:10"}));
  }
}

TEST(BatchPlannerTest, FirstFullBuildBeforeAnyPartition) {
  const BuildPlan& plan = MustBuild(Plan(Config(), Checkpoint{}, {}, {Snap(At("12:00"))}, At("12:02")));
  EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
  EXPECT_EQ(plan.full_reason, "first full build, from snapshot 2026-11-22T12:00:00Z");
  EXPECT_EQ(plan.target, std::nullopt);
  EXPECT_EQ(plan.window_start, plan.window_end);
  EXPECT_THAT(plan.window_partitions, IsEmpty());
  EXPECT_THAT(plan.window_objects, IsEmpty());
  EXPECT_THAT(plan.delta_generation, StartsWith("delta/20261122T120000Z-"));

  Checkpoint next = AdvanceCheckpoint(Checkpoint{}, plan);
  EXPECT_EQ(next.watermark, std::nullopt);
  EXPECT_EQ(next.base_snapshot, At("12:00"));
  // Same snapshot, nothing new: idle.
  EXPECT_TRUE(Plan(Config(), next, {}, {Snap(At("12:00"))}, At("13:00")).idle());
}

TEST(BatchPlannerTest, FullRebuildEveryRationsFullBuilds) {
  PlannerConfig c = Config();
  c.full_rebuild_every = hours(6);
  const Checkpoint cp = Committed(At("16:55"));
  std::vector<SnapshotListing> snaps = {Snap(At("12:00")), Snap(At("15:00")), Snap(At("16:00"))};
  const BuildPlan& delta = MustBuild(Plan(c, cp, Range(At("16:00"), At("17:00")), snaps, At("17:30")));
  EXPECT_EQ(delta.kind, BatchKind::kDelta);
  EXPECT_EQ(delta.snapshot_time, At("12:00"));

  snaps.push_back(Snap(At("18:00")));
  const BuildPlan& full = MustBuild(Plan(c, cp, Range(At("16:00"), At("18:00")), snaps, At("18:10")));
  EXPECT_EQ(full.kind, BatchKind::kFullAndDelta);
  EXPECT_EQ(full.snapshot_time, At("18:00"));
  EXPECT_EQ(full.full_reason,
            "snapshot 2026-11-22T18:00:00Z is 6h newer than the base 2026-11-22T12:00:00Z (full_rebuild_every 6h)");
}

TEST(BatchPlannerTest, SaltChangeRebuildsTheFull) {
  PlannerConfig c = Config();
  c.salt = "schema:def/format:1";
  const BuildPlan& plan =
      MustBuild(Plan(c, Committed(At("14:00")), Parts({"14:00"}), {Snap(At("12:00"))}, At("14:30")));
  EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
  EXPECT_EQ(plan.snapshot_time, At("12:00"));
  EXPECT_THAT(plan.full_reason, HasSubstr("salt"));
  EXPECT_EQ(AdvanceCheckpoint(Committed(At("14:00")), plan).build_salt, c.salt);
}

TEST(BatchPlannerTest, VanishedBaseSnapshot) {
  // Another eligible snapshot: rebuild from it, loudly.
  const BuildPlan& plan = MustBuild(
      Plan(Config(), Committed(At("14:00")), Parts({"14:00", "14:05"}), {Snap(At("13:00"))}, At("14:30")));
  EXPECT_EQ(plan.kind, BatchKind::kFullAndDelta);
  EXPECT_EQ(plan.snapshot_time, At("13:00"));
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_THAT(plan.warnings[0], HasSubstr("base snapshot 2026-11-22T12:00:00Z is no longer listed"));

  // None newer: blocked, not a silently wrong delta (nor a base moved backwards).
  for (const auto& snaps : {std::vector<SnapshotListing>{}, std::vector<SnapshotListing>{Snap(At("11:00"))}}) {
    const IdleDecision& idle =
        MustIdle(Plan(Config(), Committed(At("14:00")), Parts({"14:00", "14:05"}), snaps, At("14:30")));
    EXPECT_TRUE(idle.blocked);
    EXPECT_THAT(idle.reason, StartsWith("blocked: base snapshot 2026-11-22T12:00:00Z is no longer listed"));
  }
}

// --- generation ids --------------------------------------------------------------

TEST(BatchPlannerTest, GenerationIdsAreDeterministicAndInputSensitive) {
  const Checkpoint cp = Committed(At("17:55"));
  const auto visible = Range(At("17:30"), At("18:10"));
  const std::vector<SnapshotListing> snaps = {Snap(At("12:00")), Snap(At("18:00"))};
  const TimePoint now = At("18:20");
  const BuildPlan base = MustBuild(Plan(Config(), cp, visible, snaps, now));
  EXPECT_TRUE(IsGenerationId(base.full_generation, "full/20261122T180000Z-")) << base.full_generation;
  EXPECT_TRUE(IsGenerationId(base.delta_generation, "delta/20261122T181000Z-")) << base.delta_generation;

  // Same inputs (even listed in another order, at another time with the same eligibility): same plan.
  auto reversed = visible;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(MustBuild(Plan(Config(), cp, reversed, {snaps[1], snaps[0]}, now + minutes(1))), base);

  struct Change {
    const char* name;
    bool full_changes;
    std::function<void(PlannerConfig&, Checkpoint&, std::vector<PartitionListing>&, std::vector<SnapshotListing>&)>
        apply;
  } changes[] = {
      {"window object etag", false, [](auto&, auto&, auto& v, auto&) { v[5].objects[0].etag = "changed"; }},
      {"window object size", false, [](auto&, auto&, auto& v, auto&) { v[5].objects[1].size += 1; }},
      {"window object added", false,
       [](auto&, auto&, auto& v, auto&) { v[5].objects.push_back({"updates/late.json", 1, "x"}); }},
      {"partition gone", false, [](auto&, auto&, auto& v, auto&) { v.erase(v.begin() + 5); }},
      {"older watermark (more skipped)", false, [](auto&, auto& c, auto&, auto&) { c.watermark = At("17:45"); }},
      {"overlap", false, [](auto& p, auto&, auto&, auto&) { p.overlap = minutes(20); }},
      {"snapshot object etag", true, [](auto&, auto&, auto&, auto& s) { s[1].objects[0].etag = "changed"; }},
      {"salt", true, [](auto& p, auto& c, auto&, auto&) { p.salt = c.build_salt = "other"; }},
  };
  for (const auto& ch : changes) {
    SCOPED_TRACE(ch.name);
    PlannerConfig c = Config();
    Checkpoint k = cp;
    auto v = visible;
    auto s = snaps;
    ch.apply(c, k, v, s);
    const BuildPlan changed = MustBuild(Plan(c, k, v, s, now));
    EXPECT_NE(changed.delta_generation, base.delta_generation);
    EXPECT_EQ(changed.full_generation != base.full_generation, ch.full_changes);
  }
  // A later target: a new delta id with the new time in it.
  auto more = visible;
  more.push_back(Part(At("18:15")));
  const BuildPlan later = MustBuild(Plan(Config(), cp, more, snaps, At("18:30")));
  EXPECT_THAT(later.delta_generation, StartsWith("delta/20261122T181500Z-"));
  EXPECT_EQ(later.full_generation, base.full_generation);
}

// --- checkpoint advance -------------------------------------------------------------

TEST(BatchPlannerTest, AdvanceCheckpoint) {
  Checkpoint cp = Committed(At("14:00"));
  for (int i = 0; i < 12; ++i) {
    TimePoint t = At("14:05") + minutes(5 * i);
    const BuildPlan plan = MustBuild(Plan(Config(), cp, {Part(t)}, {Snap(At("12:00"))}, t + minutes(10)));
    Checkpoint next = AdvanceCheckpoint(cp, plan);
    EXPECT_EQ(next.watermark, t);
    EXPECT_EQ(next.next_batch_id, cp.next_batch_id + 1);
    EXPECT_EQ(next.delta_generation, plan.delta_generation);
    EXPECT_EQ(next.base_generation, cp.base_generation);
    EXPECT_EQ(next.recent.back(),
              (BatchDescriptor{plan.batch_id, BatchKind::kDelta, t, plan.full_generation, plan.delta_generation}));
    EXPECT_LE(next.recent.size(), kMaxRecentBatches);
    cp = next;
  }
  EXPECT_EQ(cp.recent.size(), kMaxRecentBatches);
  EXPECT_EQ(cp.recent.front().batch_id, 11u);  // batches 7..18, the last 8 kept

  // A full batch moves the base; a plan with an older target never lowers the watermark.
  BuildPlan full = MustBuild(Plan(Config(), cp, {}, {Snap(At("12:00")), Snap(At("15:00"))}, At("16:00")));
  ASSERT_EQ(full.kind, BatchKind::kFullAndDelta);
  full.target = At("10:00");
  Checkpoint after = AdvanceCheckpoint(cp, full);
  EXPECT_EQ(after.watermark, cp.watermark);
  EXPECT_EQ(after.base_snapshot, At("15:00"));
  EXPECT_EQ(after.base_generation, full.full_generation);
}

TEST(BatchPlannerTest, ListingBoundsAndConfig) {
  ListingBounds b = ListingBoundsFor(Config(), Committed(At("14:00"), At("12:03")));
  EXPECT_EQ(b.partitions_from, At("11:50"));  // 12:03 - 10m = 11:53, in the 11:50 slot
  EXPECT_EQ(b.snapshots_from, At("12:03"));
  EXPECT_EQ(ListingBoundsFor(Config(), Checkpoint{}).partitions_from, std::nullopt);

  EXPECT_TRUE(ValidatePlannerConfig(Config()).ok());
  PlannerConfig c = Config();
  c.interval = Duration(0);
  EXPECT_THAT(ValidatePlannerConfig(c).message(), HasSubstr("partition_interval"));
  c = Config();
  c.overlap = -minutes(1);
  EXPECT_THAT(ValidatePlannerConfig(c).message(), HasSubstr("pipeline.overlap"));

  Options o;
  o.pipeline.policy = PlanPolicy::kSequential;
  o.pipeline.full_rebuild_every = hours(6);
  PlannerConfig from = PlannerConfigFromOptions(o, "salt");
  EXPECT_EQ(from.policy, PlanPolicy::kSequential);
  EXPECT_EQ(from.full_rebuild_every, hours(6));
  EXPECT_EQ(from.interval, o.source.partition_interval);
  EXPECT_EQ(from.salt, "salt");
}

TEST(BatchPlannerTest, IsInputObject) {
  EXPECT_TRUE(IsInputObject({"updates/2026/11/22/14/05/part-0.json", 1, ""}));
  EXPECT_TRUE(IsInputObject({"part_0.json", 1, ""}));
  EXPECT_FALSE(IsInputObject({"updates/2026/11/22/14/05/part-0.json", 0, ""}));
  EXPECT_FALSE(IsInputObject({"updates/2026/11/22/14/05/_SUCCESS", 3, ""}));
  EXPECT_FALSE(IsInputObject({"updates/2026/11/22/14/05/.part-0.json.tmp", 3, ""}));
  EXPECT_FALSE(IsInputObject({"_SUCCESS", 3, ""}));
  EXPECT_FALSE(IsInputObject({"updates/2026/11/22/14/05/", 3, ""}));
  EXPECT_FALSE(IsInputObject({"", 3, ""}));
}

}  // namespace
}  // namespace freshet
