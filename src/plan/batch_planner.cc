#include "plan/batch_planner.h"
#include "base/floor_div.h"

#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>

namespace freshet {
namespace {

TimePoint FloorTo(TimePoint t, Duration step) {
  return FromUnixMillis(FloorDiv(ToUnixMillis(t), step.count()) * step.count());
}

// "14:10", or "14:10:30" / "14:10:30.250" when the seconds matter: the short
// form for reasons, next to a full RFC 3339 time that carries the date.
std::string ClockTime(TimePoint t) {
  std::string s = FormatRfc3339(t);  // "2026-11-22T14:10:30.250Z"
  std::string hms = s.substr(11, s.size() - 12);
  if (hms.size() == 8 && hms.compare(5, 3, ":00") == 0) hms.resize(5);
  return hms;
}

// Sorted by key, one entry per key (the first of equal keys after ordering
// by size and etag, so duplicates resolve deterministically), inputs only.
std::vector<ObjectInfo> InputObjects(std::vector<ObjectInfo> objects) {
  std::erase_if(objects, [](const ObjectInfo& o) { return !IsInputObject(o); });
  std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.size != b.size) return a.size < b.size;
    return a.etag < b.etag;
  });
  objects.erase(std::unique(objects.begin(), objects.end(),
                            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key == b.key; }),
                objects.end());
  return objects;
}

// One listing per time, ascending, objects filtered and sorted; listings
// left with no input objects dropped (a folder holding only a completion
// marker is not input: freshet never depends on markers). Generic over
// PartitionListing / SnapshotListing (same shape).
template <typename Listing>
std::vector<Listing> Normalize(const std::vector<Listing>& in) {
  std::map<TimePoint, std::vector<ObjectInfo>> merged;
  for (const Listing& l : in) {
    auto& objs = merged[l.time];
    objs.insert(objs.end(), l.objects.begin(), l.objects.end());
  }
  std::vector<Listing> out;
  out.reserve(merged.size());
  for (auto& [time, objs] : merged) {
    std::vector<ObjectInfo> inputs = InputObjects(std::move(objs));
    if (!inputs.empty()) out.push_back(Listing{time, std::move(inputs)});
  }
  return out;
}

// True when `in` is what Normalize would make of it: times strictly
// ascending, each one's objects input objects, strictly ascending by key,
// none empty-listed. The Lister's listings are (it keeps them so): checked
// in one pass without copying, so an idle trigger does not copy history.
template <typename Listing>
bool IsNormalized(const std::vector<Listing>& in) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (i > 0 && !(in[i - 1].time < in[i].time)) return false;
    const std::vector<ObjectInfo>& objs = in[i].objects;
    if (objs.empty()) return false;
    for (size_t j = 0; j < objs.size(); ++j) {
      if (!IsInputObject(objs[j])) return false;
      if (j > 0 && !(objs[j - 1].key < objs[j].key)) return false;
    }
  }
  return true;
}

// `in` itself when normalized, else Normalize(in) kept in *storage.
template <typename Listing>
const std::vector<Listing>& NormalizedView(const std::vector<Listing>& in, std::vector<Listing>* storage) {
  if (IsNormalized(in)) return in;
  *storage = Normalize(in);
  return *storage;
}

PendingInput MakePending(TimePoint time, TimePoint eligible_at, const std::vector<ObjectInfo>& objects,
                         std::string reason) {
  PendingInput p{time, eligible_at, objects.size(), 0, std::move(reason)};
  for (const ObjectInfo& o : objects) p.bytes += o.size;
  return p;
}

// Canonical, unambiguous serialization streamed into XXH64: every string is
// length-prefixed, every field tagged, absent values spelled distinctly.
class CanonicalHash {
 public:
  CanonicalHash() : state_(XXH64_createState(), &XXH64_freeState) { XXH64_reset(state_.get(), 0); }
  CanonicalHash& Str(std::string_view s) {
    Raw(std::to_string(s.size()));
    Raw(":");
    Raw(s);
    return *this;
  }
  CanonicalHash& Num(uint64_t v) { return Str(std::to_string(v)); }
  CanonicalHash& Time(TimePoint t) { return Str(std::to_string(ToUnixMillis(t))); }
  CanonicalHash& Time(const std::optional<TimePoint>& t) { return t ? Time(*t) : Str("none"); }
  CanonicalHash& Times(const std::vector<TimePoint>& ts) {
    Num(ts.size());
    for (TimePoint t : ts) Time(t);
    return *this;
  }
  CanonicalHash& Objects(const std::vector<ObjectInfo>& objects) {
    Num(objects.size());
    for (const ObjectInfo& o : objects) Str(o.key).Num(o.size).Str(o.etag);
    return *this;
  }
  std::string Hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, static_cast<uint64_t>(XXH64_digest(state_.get())));
    return buf;
  }

 private:
  void Raw(std::string_view s) { XXH64_update(state_.get(), s.data(), s.size()); }
  std::unique_ptr<XXH64_state_t, decltype(&XXH64_freeState)> state_;
};

// "20261122T140500Z" (sub-second digits dropped: the hash tells apart what
// the name does not).
std::string TimeTag(TimePoint t) {
  std::string s = FormatRfc3339(t);
  std::string tag;
  for (size_t i = 0; i < 19; ++i) {
    if (s[i] != '-' && s[i] != ':') tag.push_back(s[i]);
  }
  return tag + "Z";
}

std::string JoinPendingSummary(const std::vector<PendingInput>& pending, const std::vector<PendingInput>& snaps) {
  std::string out;
  if (!pending.empty()) {
    out += "; " + std::to_string(pending.size()) + " pending: " + FormatRfc3339(pending.front().time) + " " +
           pending.front().reason;
    if (pending.size() > 1) out += " (and " + std::to_string(pending.size() - 1) + " newer)";
  }
  if (!snaps.empty()) {
    out += "; snapshot " + FormatRfc3339(snaps.back().time) + " " + snaps.back().reason;
  }
  return out;
}

}  // namespace

PlannerConfig PlannerConfigFromOptions(const Options& options, std::string salt) {
  PlannerConfig c;
  c.interval = options.source.partition_interval;
  c.grace = options.pipeline.grace;
  c.snapshot_grace = options.pipeline.snapshot_grace;
  c.overlap = options.pipeline.overlap;
  c.max_window = options.pipeline.max_window;
  c.full_rebuild_every = options.pipeline.full_rebuild_every;
  c.policy = options.pipeline.policy;
  c.salt = std::move(salt);
  return c;
}

Status ValidatePlannerConfig(const PlannerConfig& c) {
  if (c.interval.count() <= 0) return Status::InvalidArgument("source.partition_interval must be positive");
  struct {
    const char* key;
    Duration value;
  } nonneg[] = {{"pipeline.grace", c.grace},
                {"pipeline.snapshot_grace", c.snapshot_grace},
                {"pipeline.overlap", c.overlap},
                {"pipeline.max_window", c.max_window},
                {"pipeline.full_rebuild_every", c.full_rebuild_every}};
  for (const auto& d : nonneg) {
    if (d.value.count() < 0) return Status::InvalidArgument(std::string(d.key) + " must not be negative");
  }
  return Status::Ok();
}

ListingBounds ListingBoundsFor(const PlannerConfig& config, const Checkpoint& checkpoint) {
  ListingBounds b;
  if (checkpoint.base_snapshot) {
    b.partitions_from = FloorTo(*checkpoint.base_snapshot - config.overlap, config.interval);
    b.snapshots_from = checkpoint.base_snapshot;
  }
  return b;
}

bool IsInputObject(const ObjectInfo& object) {
  if (object.size == 0 || object.key.empty() || object.key.back() == '/') return false;
  size_t slash = object.key.rfind('/');
  char first = object.key[slash == std::string::npos ? 0 : slash + 1];
  return first != '_' && first != '.';
}

std::string FullGenerationId(const std::string& salt, TimePoint snapshot_time,
                             const std::vector<ObjectInfo>& snapshot_objects) {
  CanonicalHash h;
  h.Str("freshet.full.v1").Str(salt).Time(snapshot_time).Objects(snapshot_objects);
  return "full/" + TimeTag(snapshot_time) + "-" + h.Hex();
}

std::string DeltaGenerationId(const BuildPlan& p) {
  CanonicalHash h;
  h.Str("freshet.delta.v1").Str(p.salt).Str(BatchKindName(p.kind));
  h.Time(p.target).Time(p.previous_watermark).Time(p.window_start).Time(p.window_end);
  h.Times(p.window_partitions).Times(p.skipped).Objects(p.window_objects);
  h.Time(p.snapshot_time).Objects(p.snapshot_objects).Str(p.full_generation);
  // A segment extends a chain: the same window on another predecessor is
  // another segment.
  if (p.kind == BatchKind::kDelta && !p.chain.empty()) h.Str("predecessor").Str(p.chain.back());
  // The manifest records the planner's warnings, and a generation's bytes
  // must follow from its id: a plan with other warnings is another
  // generation. (None: the id is as it always was.)
  if (!p.warnings.empty()) {
    h.Str("warnings").Num(p.warnings.size());
    for (const std::string& w : p.warnings) h.Str(w);
  }
  TimePoint named = p.target ? *p.target : p.snapshot_time ? *p.snapshot_time : p.window_end;
  return "delta/" + TimeTag(named) + "-" + h.Hex();
}

bool IsNormalizedListing(const std::vector<PartitionListing>& visible) { return IsNormalized(visible); }

PlanDecision Plan(const PlannerConfig& config, const Checkpoint& cp, const std::vector<PartitionListing>& visible_in,
                  const std::vector<SnapshotListing>& snapshots_in, TimePoint now, bool visible_normalized) {
  std::vector<PartitionListing> visible_storage;
  std::vector<SnapshotListing> snapshots_storage;
  const std::vector<PartitionListing>& visible =
      visible_normalized ? visible_in : NormalizedView(visible_in, &visible_storage);
  const std::vector<SnapshotListing>& snapshots = NormalizedView(snapshots_in, &snapshots_storage);
  const std::optional<TimePoint>& watermark = cp.watermark;

  // Eligibility. `visible` ascends by time, and a partition is eligible
  // once its end + grace has passed: the eligible ones are a prefix, found
  // by binary search (an idle tick does not walk the history).
  const auto first_pending = std::partition_point(visible.begin(), visible.end(), [&](const PartitionListing& p) {
    return p.time + config.interval + config.grace <= now;
  });
  std::vector<PendingInput> pending;
  for (auto p = first_pending; p != visible.end(); ++p) {
    TimePoint end = p->time + config.interval;
    TimePoint at = end + config.grace;
    pending.push_back(MakePending(p->time, at, p->objects,
                                  "not eligible until " + FormatRfc3339(at) + " (end " + ClockTime(end) +
                                      " + grace " + FormatDuration(config.grace) + ")"));
  }
  const SnapshotListing* newest_snapshot = nullptr;
  const SnapshotListing* base_listing = nullptr;
  std::vector<PendingInput> pending_snapshots;
  for (const SnapshotListing& s : snapshots) {
    if (cp.base_snapshot && s.time == *cp.base_snapshot) base_listing = &s;
    TimePoint at = s.time + config.snapshot_grace;
    if (cp.base_snapshot && s.time < *cp.base_snapshot) {
      // Never rebuild from a snapshot older than the base: the Lister does
      // not list partitions that far back (ListingBoundsFor), and the base
      // would move backwards for nothing.
      continue;
    }
    if (at <= now) {
      newest_snapshot = &s;
    } else if (!cp.base_snapshot || s.time > *cp.base_snapshot) {
      pending_snapshots.push_back(MakePending(s.time, at, s.objects,
                                              "not eligible until " + FormatRfc3339(at) + " (snapshot " +
                                                  ClockTime(s.time) + " + snapshot grace " +
                                                  FormatDuration(config.snapshot_grace) + ")"));
    }
  }

  std::vector<std::string> warnings;

  // Is a full build due, and from which snapshot?
  std::string full_reason;
  if (newest_snapshot) {
    const std::string snap = FormatRfc3339(newest_snapshot->time);
    if (!cp.base_snapshot) {
      full_reason = "first full build, from snapshot " + snap;
    } else if (!base_listing) {
      full_reason = "base snapshot " + FormatRfc3339(*cp.base_snapshot) +
                    " is no longer listed; rebuilding the full from snapshot " + snap;
      warnings.push_back(full_reason);
    } else if (cp.build_salt != config.salt) {
      full_reason = "the build salt (schema or format version) changed; rebuilding the full from snapshot " + snap;
    } else if (newest_snapshot->time > *cp.base_snapshot) {
      Duration ahead = newest_snapshot->time - *cp.base_snapshot;
      if (config.full_rebuild_every.count() == 0) {
        full_reason = "new snapshot " + snap + " (base " + FormatRfc3339(*cp.base_snapshot) + ")";
      } else if (ahead >= config.full_rebuild_every) {
        full_reason = "snapshot " + snap + " is " + FormatDuration(ahead) + " newer than the base " +
                      FormatRfc3339(*cp.base_snapshot) + " (full_rebuild_every " +
                      FormatDuration(config.full_rebuild_every) + ")";
      }
    }
  } else if (cp.base_snapshot && !base_listing) {
    // The Builder needs the base snapshot's objects for fan-out, and there
    // is no newer eligible snapshot to rebuild the full from: building
    // would be wrong, so wait (loudly) for one.
    IdleDecision idle;
    idle.blocked = true;
    idle.reason = "blocked: base snapshot " + FormatRfc3339(*cp.base_snapshot) +
                  " is no longer listed and no newer eligible snapshot exists to rebuild the full from" +
                  JoinPendingSummary(pending, pending_snapshots);
    idle.warnings.push_back(idle.reason);
    idle.pending = std::move(pending);
    idle.pending_snapshots = std::move(pending_snapshots);
    return PlanDecision{std::move(idle)};
  } else if (cp.base_snapshot && cp.build_salt != config.salt) {
    warnings.push_back("the build salt (schema or format version) changed but no eligible snapshot exists to "
                       "rebuild the full from; deltas use the new salt over the old full until one does");
  }
  const bool full = !full_reason.empty();

  // Target.
  std::vector<const PartitionListing*> after;  // eligible and newer than the watermark, ascending
  const auto first_after =
      watermark ? std::partition_point(visible.begin(), first_pending,
                                       [&](const PartitionListing& p) { return p.time <= *watermark; })
                : visible.begin();
  for (auto p = first_after; p != first_pending; ++p) after.push_back(&*p);
  if (!full && after.empty()) {
    IdleDecision idle;
    if (watermark) {
      idle.reason = "no eligible partition newer than watermark " + FormatRfc3339(*watermark);
    } else if (visible.empty()) {
      idle.reason = "no partition visible yet";
    } else {
      idle.reason = "no eligible partition yet";
    }
    idle.reason += JoinPendingSummary(pending, pending_snapshots);
    idle.pending = std::move(pending);
    idle.pending_snapshots = std::move(pending_snapshots);
    idle.warnings = std::move(warnings);
    return PlanDecision{std::move(idle)};
  }

  BuildPlan plan;
  plan.batch_id = cp.next_batch_id;
  plan.kind = full ? BatchKind::kFullAndDelta : BatchKind::kDelta;
  plan.full_reason = full_reason;
  plan.salt = config.salt;
  plan.previous_watermark = watermark;
  if (!after.empty()) {
    const bool latest = config.policy == PlanPolicy::kLatest;
    // Under `sequential`, a new full jumps over the partitions its snapshot
    // already holds (ending before its window starts): they are recorded
    // as skipped, like latest's, and the batch targets the first one after.
    size_t first = 0;
    if (!latest && full) {
      const TimePoint lower = newest_snapshot->time - config.overlap;
      while (first + 1 < after.size() && after[first]->time + config.interval <= lower) ++first;
      if (after[first]->time + config.interval <= lower) first = after.size() - 1;  // all held: the newest
    }
    plan.target = latest ? after.back()->time : after[first]->time;
    if (latest) {
      for (size_t i = 0; i + 1 < after.size(); ++i) plan.skipped.push_back(after[i]->time);
    } else {
      for (size_t i = 0; i < first; ++i) plan.skipped.push_back(after[i]->time);
      plan.backlog = after.size() - 1 - first;
    }
  } else {
    plan.target = watermark;  // a full batch with nothing new: the delta re-covers the window
  }

  // Base.
  const SnapshotListing* base = full ? newest_snapshot : base_listing;
  if (base) {
    plan.snapshot_time = base->time;
    plan.snapshot_objects = base->objects;
  }
  plan.full_generation = full ? FullGenerationId(config.salt, base->time, base->objects) : cp.base_generation;

  // Window.
  if (plan.target) {
    plan.window_end = *plan.target + config.interval;
    std::optional<TimePoint> lower;  // slots must reach past this instant
    if (base) lower = base->time - config.overlap;
    for (const PartitionListing& p : visible) {
      if (p.time > *plan.target) break;
      if (lower && p.time + config.interval <= *lower) continue;
      plan.window_partitions.push_back(p.time);
      plan.window_objects.insert(plan.window_objects.end(), p.objects.begin(), p.objects.end());
    }
    if (lower) {
      plan.window_start = std::min(FloorTo(*lower, config.interval), plan.window_end);
    } else {
      plan.window_start = plan.window_partitions.empty() ? plan.window_end : plan.window_partitions.front();
    }
    // Concatenated per partition; sort once more so "ascending by key" holds
    // whatever prefix the Lister put in front of the layout's folders.
    plan.window_objects = InputObjects(std::move(plan.window_objects));
  } else {
    plan.window_start = plan.window_end = base->time;
  }

  Duration width = plan.window_end - plan.window_start;
  if (config.max_window.count() > 0 && width > config.max_window) {
    std::string why = base ? "the base snapshot " + FormatRfc3339(base->time) +
                                 " is old; check that snapshots (and full builds) keep arriving"
                           : "there is no snapshot yet, so the delta reads every visible partition";
    warnings.push_back("WINDOW TOO WIDE: the delta window " + FormatRfc3339(plan.window_start) + " .. " +
                       FormatRfc3339(plan.window_end) + " spans " + FormatDuration(width) + ", more than max_window " +
                       FormatDuration(config.max_window) + ": " + why +
                       ". Building it complete anyway; a truncated delta would be wrong.");
  }

  if (plan.kind == BatchKind::kDelta) plan.chain = EffectiveChain(cp.delta_generation, cp.chain);
  plan.warnings = std::move(warnings);  // before the id: the manifest records them
  plan.delta_generation = DeltaGenerationId(plan);
  plan.pending = std::move(pending);
  plan.pending_snapshots = std::move(pending_snapshots);
  return PlanDecision{std::move(plan)};
}

namespace {

void Retire(Checkpoint& cp, std::vector<std::string> ids, uint64_t until_batch) {
  for (std::string& id : ids) cp.retired.push_back({std::move(id), until_batch});
}

// Drops retired segments whose last protecting batch has committed, and the
// oldest beyond the codec's bound.
void PruneRetired(Checkpoint& cp) {
  std::erase_if(cp.retired, [&](const Checkpoint::Retired& r) { return r.until_batch < cp.next_batch_id; });
  if (cp.retired.size() > kMaxRetiredSegments) {
    cp.retired.erase(cp.retired.begin(), cp.retired.end() - kMaxRetiredSegments);
  }
}

}  // namespace

Checkpoint AdvanceCheckpoint(const Checkpoint& cp, const BuildPlan& plan, bool starts_chain, uint64_t segment_bytes) {
  Checkpoint next = cp;
  next.chain = EffectiveChain(cp.delta_generation, cp.chain);
  next.chain_bytes.resize(next.chain.size(), 0);
  next.pending_merge.reset();  // carried out (ApplyMerge) before this, or dropped
  if (plan.kind == BatchKind::kFullAndDelta || starts_chain) {
    // Segments of CURRENT(batch_id - 1) and older: kept while that CURRENT
    // is among the last kMaxRecentBatches.
    Retire(next, std::move(next.chain), plan.batch_id + kMaxRecentBatches - 1);
    next.chain.clear();
    next.chain_bytes.clear();
  }
  next.chain.push_back(plan.delta_generation);
  next.chain_bytes.push_back(segment_bytes);
  if (plan.target && (!next.watermark || *plan.target > *next.watermark)) next.watermark = plan.target;
  if (plan.kind == BatchKind::kFullAndDelta) {
    next.base_snapshot = plan.snapshot_time;
    next.base_generation = plan.full_generation;
    next.build_salt = plan.salt;
  }
  next.delta_generation = plan.delta_generation;
  next.recent.push_back(
      BatchDescriptor{plan.batch_id, plan.kind, plan.target, plan.full_generation, plan.delta_generation});
  if (next.recent.size() > kMaxRecentBatches)
    next.recent.erase(next.recent.begin(), next.recent.end() - kMaxRecentBatches);
  next.next_batch_id = std::max(cp.next_batch_id, plan.batch_id + 1);
  PruneRetired(next);
  return next;
}

Checkpoint ApplyMerge(const Checkpoint& cp, uint64_t merged_bytes, uint64_t batch_id) {
  Checkpoint next = cp;
  const Checkpoint::PendingMerge& m = *cp.pending_merge;
  next.chain = EffectiveChain(cp.delta_generation, cp.chain);
  next.chain_bytes.resize(next.chain.size(), 0);
  const auto b = static_cast<ptrdiff_t>(m.begin);
  const auto e = static_cast<ptrdiff_t>(m.begin + m.run.size());
  next.chain.erase(next.chain.begin() + b + 1, next.chain.begin() + e);
  next.chain[m.begin] = m.id;
  next.chain_bytes.erase(next.chain_bytes.begin() + b + 1, next.chain_bytes.begin() + e);
  next.chain_bytes[m.begin] = merged_bytes;
  next.delta_generation = next.chain.back();
  // Members of CURRENT(batch_id - 1) and older, as in AdvanceCheckpoint.
  Retire(next, m.run, batch_id + kMaxRecentBatches - 1);
  next.pending_merge.reset();
  return next;
}

std::optional<Checkpoint::PendingMerge> DecideMerge(const Checkpoint& cp, const MergePolicyOptions& policy) {
  const std::vector<std::string> chain = EffectiveChain(cp.delta_generation, cp.chain);
  if (chain.size() < 3) return std::nullopt;
  std::vector<uint64_t> sizes(cp.chain_bytes.begin(),
                              cp.chain_bytes.begin() + static_cast<ptrdiff_t>(std::min(cp.chain_bytes.size(),
                                                                                       chain.size() - 1)));
  sizes.resize(chain.size() - 1, 0);
  std::optional<MergeChoice> choice = ChooseMerge(sizes, policy);
  if (!choice) return std::nullopt;
  Checkpoint::PendingMerge m;
  m.begin = choice->begin;
  m.run.assign(chain.begin() + static_cast<ptrdiff_t>(choice->begin), chain.begin() + static_cast<ptrdiff_t>(choice->end));
  m.id = MergedSegmentId(m.run);
  return m;
}

std::optional<TimePoint> WaitingSince(const PlanDecision& decision, const PlannerConfig& config, TimePoint now) {
  if (const IdleDecision* idle = decision.idle()) {
    if (idle->blocked) return now;
    return std::nullopt;
  }
  const BuildPlan& plan = *decision.build();
  for (TimePoint t : plan.window_partitions) {  // ascending
    if (!plan.previous_watermark || t > *plan.previous_watermark) return t + config.interval + config.grace;
  }
  if (plan.kind == BatchKind::kFullAndDelta && plan.snapshot_time) return *plan.snapshot_time + config.snapshot_grace;
  return now;
}

}  // namespace freshet
