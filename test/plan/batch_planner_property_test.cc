// Property test: a simulated source (partitions arriving late and out of
// order, gaps, objects added to old partitions, markers, snapshots every
// few hours) driven by a manual clock through Plan -> (maybe) commit ->
// AdvanceCheckpoint -> checkpoint codec round trip, as the daemon would
// across restarts. Checked after every step:
//   - the watermark never moves backwards;
//   - a plan never targets a partition at or below the watermark unless it
//     is a full batch that keeps the watermark;
//   - `latest` leaves no eligible partition after the watermark unplanned:
//     each is the target or in `skipped`; `sequential` takes the oldest;
//   - the window is complete: every visible object in a partition whose
//     slot reaches past base - overlap, up to the target, is in
//     window_objects, and nothing else is;
//   - the plan is a pure function of its inputs.
// And at the end, after the source goes quiet and the planner drains:
// every object ever seen was either in a committed window or older than a
// committed base snapshot minus overlap: nothing was lost by skipping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "base/clock.h"
#include "plan/batch_planner.h"
#include "sink/checkpoint.h"

namespace freshet {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

struct TimedObject {
  TimePoint appears;
  ObjectInfo info;
};

class Source {
 public:
  Source(std::mt19937_64& rng, TimePoint start, TimePoint end, Duration interval) {
    auto uniform = [&rng](Duration max) { return Duration(static_cast<int64_t>(rng() % (max.count() + 1))); };
    int serial = 0;
    for (TimePoint t = start; t < end; t += interval) {
      if (rng() % 100 < 12) continue;  // a gap: this slot never gets a folder
      TimePoint first = t + uniform(interval + minutes(4));
      int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) {
        std::string key = "updates/" + std::to_string(ToUnixMillis(t)) + "/part-" + std::to_string(serial++);
        TimePoint appears = first + (i == 0 ? Duration(0) : uniform(seconds(40)));
        if (rng() % 100 < 15) appears += uniform(minutes(12));  // a straggler, possibly after the grace
        partitions_[t].push_back({appears, {key, 1 + rng() % 1000, std::to_string(rng() % 1000)}});
      }
      if (rng() % 100 < 30)  // markers and empty objects: never inputs
        partitions_[t].push_back({first, {"updates/" + std::to_string(ToUnixMillis(t)) + "/_SUCCESS", 0, "m"}});
      if (rng() % 100 < 10)
        partitions_[t].push_back({first, {"updates/" + std::to_string(ToUnixMillis(t)) + "/empty", 0, "e"}});
    }
    for (TimePoint t = start + hours(1); t < end; t += hours(3)) {
      std::string dir = "snapshots/" + std::to_string(ToUnixMillis(t)) + "/";
      TimePoint appears = t + uniform(minutes(5));
      snapshots_[t] = {{appears, {dir + "a", 10, "x"}}, {appears, {dir + "b", 20, "y"}}};
    }
  }

  std::vector<PartitionListing> Partitions(TimePoint now, std::optional<TimePoint> from) const {
    std::vector<PartitionListing> out;
    for (const auto& [t, objs] : partitions_) {
      if (from && t < *from) continue;
      PartitionListing p{t, {}};
      for (const auto& o : objs)
        if (o.appears <= now) p.objects.push_back(o.info);
      if (!p.objects.empty()) out.push_back(std::move(p));
    }
    return out;
  }
  std::vector<SnapshotListing> Snapshots(TimePoint now, std::optional<TimePoint> from) const {
    std::vector<SnapshotListing> out;
    for (const auto& [t, objs] : snapshots_) {
      if (from && t < *from) continue;
      SnapshotListing s{t, {}};
      for (const auto& o : objs)
        if (o.appears <= now) s.objects.push_back(o.info);
      if (!s.objects.empty()) out.push_back(std::move(s));
    }
    return out;
  }
  // Input objects visible at `now`, by key, with their partition time.
  std::map<std::string, TimePoint> InputObjects(TimePoint now) const {
    std::map<std::string, TimePoint> out;
    for (const auto& [t, objs] : partitions_)
      for (const auto& o : objs)
        if (o.appears <= now && IsInputObject(o.info)) out[o.info.key] = t;
    return out;
  }
  void Add(TimePoint t, TimedObject o) { partitions_[t].push_back(std::move(o)); }

 private:
  std::map<TimePoint, std::vector<TimedObject>> partitions_;
  std::map<TimePoint, std::vector<TimedObject>> snapshots_;
};

// Checks one plan against the listing it was made from.
void CheckPlan(const PlannerConfig& config, const Checkpoint& cp, const std::vector<PartitionListing>& visible,
               TimePoint now, const BuildPlan& plan) {
  const auto& w = cp.watermark;
  ASSERT_EQ(plan.batch_id, cp.next_batch_id);
  if (plan.kind == BatchKind::kDelta) {
    ASSERT_TRUE(plan.target.has_value());
    if (w) {
      ASSERT_GT(*plan.target, *w) << "a delta must move the watermark forward";
    }
  } else if (w) {
    ASSERT_TRUE(plan.target.has_value());
    ASSERT_GE(*plan.target, *w);
  }
  // Eligible partitions after the watermark: all at or below the target
  // (latest) or none below it (sequential); every one jumped over is recorded.
  std::set<TimePoint> skipped(plan.skipped.begin(), plan.skipped.end());
  for (const auto& p : visible) {
    bool eligible = p.time + config.interval + config.grace <= now;
    bool input = std::any_of(p.objects.begin(), p.objects.end(), IsInputObject);
    if (!eligible || !input || (w && p.time <= *w)) continue;
    if (config.policy == PlanPolicy::kLatest) {
      ASSERT_TRUE(plan.target && p.time <= *plan.target) << FormatRfc3339(p.time) << " left behind";
      if (p.time < *plan.target) {
        ASSERT_TRUE(skipped.count(p.time)) << FormatRfc3339(p.time) << " not in skipped";
      }
    } else if (p.time < *plan.target) {
      // Only a new full jumps over, and only what its snapshot holds: recorded.
      ASSERT_EQ(plan.kind, BatchKind::kFullAndDelta) << "sequential must take the oldest";
      ASSERT_TRUE(skipped.count(p.time)) << FormatRfc3339(p.time) << " not in skipped";
      ASSERT_TRUE(plan.snapshot_time && p.time + config.interval <= *plan.snapshot_time - config.overlap)
          << FormatRfc3339(p.time) << " jumped over but not held by the new full's snapshot";
    }
  }
  // The window: exactly the input objects of visible partitions whose slot
  // reaches past base - overlap, up to the target.
  std::vector<ObjectInfo> expected;
  if (plan.target) {
    for (const auto& p : visible) {
      if (p.time > *plan.target) continue;
      if (plan.snapshot_time && p.time + config.interval <= *plan.snapshot_time - config.overlap) continue;
      for (const auto& o : p.objects)
        if (IsInputObject(o)) expected.push_back(o);
    }
  }
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  ASSERT_EQ(plan.window_objects, expected);
  ASSERT_LE(plan.window_start, plan.window_end);
  for (TimePoint t : plan.window_partitions) {
    ASSERT_GE(t, plan.window_start);
    ASSERT_LT(t, plan.window_end);
  }
}

struct SimConfig {
  PlanPolicy policy;
  Duration grace;
  Duration overlap;
  Duration full_rebuild_every;
};

// What the simulations exercised, so the test proves it covered the cases.
struct Coverage {
  int builds = 0, full_builds = 0, skipped = 0, failures = 0, idles = 0, late_pickups = 0, normalized_listings = 0;
};

void RunSimulation(uint64_t seed, Coverage& coverage) {
  std::mt19937_64 rng(seed);
  const SimConfig sims[] = {
      {PlanPolicy::kLatest, minutes(2), minutes(10), Duration(0)},
      {PlanPolicy::kSequential, minutes(2), minutes(10), Duration(0)},
      {PlanPolicy::kLatest, Duration(0), Duration(0), hours(6)},
      {PlanPolicy::kSequential, minutes(3), minutes(17), hours(6)},
      {PlanPolicy::kLatest, minutes(1), minutes(5), Duration(0)},
  };
  const SimConfig& sim = sims[seed % std::size(sims)];
  PlannerConfig config;
  config.policy = sim.policy;
  config.grace = sim.grace;
  config.overlap = sim.overlap;
  config.full_rebuild_every = sim.full_rebuild_every;
  config.salt = "salt";
  SCOPED_TRACE("seed " + std::to_string(seed));

  const TimePoint start = *ParseRfc3339("2026-11-22T00:00:00Z");
  const TimePoint end = start + hours(16);
  Source source(rng, start, end, config.interval);
  ManualClock clock(start);

  Checkpoint cp;
  std::map<std::string, TimePoint> uncovered;  // objects seen but not yet in a committed window or base
  std::set<std::string> seen;

  auto step = [&](bool may_fail) {
    const TimePoint now = clock.Now();
    for (const auto& [key, t] : source.InputObjects(now))
      if (seen.insert(key).second) uncovered[key] = t;
    ListingBounds bounds = ListingBoundsFor(config, cp);
    auto visible = source.Partitions(now, bounds.partitions_from);
    auto snaps = source.Snapshots(now, bounds.snapshots_from);
    PlanDecision d = Plan(config, cp, visible, snaps, now);
    // Pure: the same inputs, listed in another order, give the same decision.
    std::reverse(visible.begin(), visible.end());
    PlanDecision again = Plan(config, cp, visible, snaps, now);
    std::reverse(visible.begin(), visible.end());  // as listed
    // The Planner's path for a listing it checked once: the same decision.
    if (IsNormalizedListing(visible)) {
      PlanDecision fast = Plan(config, cp, visible, snaps, now, /*visible_normalized=*/true);
      EXPECT_EQ(fast.build() != nullptr, d.build() != nullptr);
      if (d.build() && fast.build()) {
        EXPECT_TRUE(*fast.build() == *d.build());
      }
      if (d.idle() && fast.idle()) {
        EXPECT_TRUE(*fast.idle() == *d.idle());
      }
      ++coverage.normalized_listings;
    }
    if (d.build()) {
      EXPECT_TRUE(again.build() && *again.build() == *d.build());
    } else {
      EXPECT_TRUE(again.idle() && *again.idle() == *d.idle());
      EXPECT_FALSE(d.idle()->blocked) << d.idle()->reason;
      ++coverage.idles;
      return false;
    }
    const BuildPlan& plan = *d.build();
    CheckPlan(config, cp, visible, now, plan);
    if (may_fail && rng() % 100 < 10) {  // the batch failed: nothing committed
      ++coverage.failures;
      return true;
    }
    ++coverage.builds;
    coverage.full_builds += plan.kind == BatchKind::kFullAndDelta;
    coverage.skipped += static_cast<int>(plan.skipped.size());
    Checkpoint next = AdvanceCheckpoint(cp, plan);
    if (cp.watermark) {
      EXPECT_GE(next.watermark, cp.watermark) << "watermark moved backwards";
    }
    // Restart-as-design: the next step starts from the persisted bytes.
    auto decoded = DecodeCheckpoint(EncodeCheckpoint(next));
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    if (!decoded.ok()) return false;
    EXPECT_EQ(*decoded, next);
    cp = *decoded;
    std::set<std::string> in_window;
    for (const auto& o : plan.window_objects) in_window.insert(o.key);
    std::erase_if(uncovered, [&](const auto& kv) {
      if (in_window.count(kv.first)) {
        // Picked up although its partition was at or below the old watermark.
        if (plan.previous_watermark && kv.second <= *plan.previous_watermark) ++coverage.late_pickups;
        return true;
      }
      return cp.base_snapshot && kv.second + config.interval <= *cp.base_snapshot - config.overlap;
    });
    return true;
  };

  while (clock.Now() < end + hours(1)) {
    step(/*may_fail=*/true);
    if (testing::Test::HasFatalFailure()) return;
    // Usually a trigger every few seconds to minutes; now and then the
    // daemon is down for a while and comes back to a backlog.
    int64_t pause_ms = rng() % 100 < 3 ? 600'000 + rng() % 3'000'000 : 10'000 + rng() % 240'000;
    clock.Advance(Duration(pause_ms));
  }
  // The source goes quiet; one last partition arrives so a final batch
  // picks up stragglers in old partitions, then the planner drains.
  source.Add(end, {end + minutes(1), {"updates/final/part", 1, "f"}});
  clock.Set(end + hours(3));
  int batches = 0;
  while (step(/*may_fail=*/false)) {
    if (testing::Test::HasFatalFailure()) return;
    ASSERT_LT(++batches, 2000) << "the planner does not converge";
  }
  EXPECT_EQ(cp.watermark, end);
  for (const auto& [key, t] : uncovered) ADD_FAILURE() << key << " (partition " << FormatRfc3339(t) << ") was lost";
}

TEST(BatchPlannerPropertyTest, WatermarkMonotoneAndNothingLost) {
  Coverage coverage;
  for (uint64_t seed = 1; seed <= 15; ++seed) {
    RunSimulation(seed, coverage);
    if (HasFailure()) return;
  }
  EXPECT_GT(coverage.builds, 1000);
  EXPECT_GT(coverage.full_builds, 50);
  EXPECT_GT(coverage.skipped, 100);
  EXPECT_GT(coverage.failures, 50);
  EXPECT_GT(coverage.idles, 1000);
  EXPECT_GT(coverage.late_pickups, 20);
  EXPECT_GT(coverage.normalized_listings, 100);  // the simulated source lists markers and unsorted keys too
  std::printf("builds %d (full %d), skipped %d, failed %d, idle %d, late pickups %d\n", coverage.builds,
              coverage.full_builds, coverage.skipped, coverage.failures, coverage.idles, coverage.late_pickups);
}

}  // namespace
}  // namespace freshet
