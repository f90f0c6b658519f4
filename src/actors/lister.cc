#include "actors/lister.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/store_await.h"

namespace freshet {

uint64_t EligiblePendingBytes(const ListingReport& listing, const PlannerConfig& config, const Checkpoint& checkpoint,
                              TimePoint now) {
  uint64_t bytes = 0;
  for (const auto& p : listing.partitions()) {
    if (checkpoint.watermark && p.time <= *checkpoint.watermark) continue;
    if (p.time + config.interval + config.grace > now) continue;
    for (const auto& o : p.objects) bytes += o.size;
  }
  return bytes;
}

Lister::Lister(asio::io_context& io, ObjectStore* source, const Options& options, PartitionLayout layout,
               const PlannerConfig& planner_config, const Checkpoint& checkpoint, const Clock* clock)
    : mailbox_(io, "lister", 16), source_(source), planner_config_(planner_config), clock_(clock),
      partitions_(options.source.updates_prefix, layout, planner_config.interval + planner_config.grace),
      snapshots_(options.source.snapshots_prefix, layout, planner_config.snapshot_grace),
      updates_prefix_(options.source.updates_prefix), snapshots_prefix_(options.source.snapshots_prefix),
      layout_pattern_(options.source.layout), relist_interval_(options.source.relist_interval) {
  SetCheckpoint(checkpoint);
}

void Lister::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

void Lister::SetCheckpoint(const Checkpoint& checkpoint) {
  checkpoint_ = checkpoint;
  ListingBounds b = ListingBoundsFor(planner_config_, checkpoint);
  partitions_.SetLowerBound(b.partitions_from);
  snapshots_.SetLowerBound(b.snapshots_from);
}

Awaitable<void> Lister::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  while (std::optional<ListerMsg> msg = co_await mailbox_.Receive()) {
    if (auto* list = std::get_if<ListNow>(&*msg)) {
      // On its own coroutine (same strand), so heartbeats are answered
      // while the LIST pages come in.
      if (listing_) {
        RefuseWhileBusy(*list);
        continue;
      }
      listing_ = true;
      asio::co_spawn(mailbox_.strand(), OnListNow(std::move(*list)), asio::detached);
    } else if (auto* relist = std::get_if<RelistWindow>(&*msg)) {
      spdlog::info("lister: listing the whole window again at the next trigger: {}", relist->reason);
      partitions_.RelistWhole();
      snapshots_.RelistWhole();
    } else if (auto* cp = std::get_if<CheckpointAdvanced>(&*msg)) {
      SetCheckpoint(cp->checkpoint);
    } else if (auto* ping = std::get_if<Ping>(&*msg)) {
      (void)out_.watchdog->Post(Pong{"lister", ping->seq});  // refused: the watchdog counts it unanswered
    }
  }
}

// The Ticker never asks while a batch or probe is in flight; should it,
// the request fails loudly rather than waiting behind an unknown listing.
void Lister::RefuseWhileBusy(const ListNow& m) {
  if (m.probe) {
    (void)out_.ticker->Post(PendingMeasured{0});
    return;
  }
  BatchProgress p;
  p.trigger_time = m.trigger_time;
  p.outcome = BatchOutcome::kFailed;
  p.message = "lister: a listing is already in flight";
  out_.route.End(p);
}

Awaitable<void> Lister::OnListNow(ListNow m) {
  auto self = shared_from_this();
  const auto t0 = std::chrono::steady_clock::now();
  Result<ListingReport> listing = co_await ListOnce();
  listing_ = false;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (listing.ok()) out_.route.board->Publish(SourceListed{});

  if (m.probe) {
    // A failed probe measures nothing; the next deadline lists again.
    uint64_t bytes = listing.ok() ? EligiblePendingBytes(*listing, planner_config_, checkpoint_, listing->listed_at) : 0;
    (void)out_.ticker->Post(PendingMeasured{bytes});  // coalesces; closed at shutdown
    co_return;
  }
  BatchProgress p;
  p.trigger_time = m.trigger_time;
  p.seconds(Stage::kList) = seconds;
  p.stages_reached = 1;
  if (!listing.ok()) {
    p.outcome = BatchOutcome::kFailed;
    p.message = listing.status().ToString();
    out_.route.End(p);
    co_return;
  }
  Delivery d = out_.planner->Post(PlanRequest{p, std::move(listing).value()});
  if (!Delivered(d)) {
    p.outcome = BatchOutcome::kFailed;
    p.message = "planner mailbox refused the listing";
    out_.route.End(p);
  }
}

Awaitable<Status> Lister::ListAfter(std::string prefix, std::string start_after, std::vector<ObjectInfo>* out,
                                    uint64_t* requests) {
  ListRequest req;
  req.prefix = std::move(prefix);
  req.start_after = std::move(start_after);
  req.max_keys = 1000;
  for (;;) {
    ++*requests;
    Result<ListPage> page = co_await AwaitList(source_, req);
    if (!page.ok()) co_return page.status().WithContext("list " + source_->Describe() + "/" + req.prefix);
    for (auto& o : page->objects) out->push_back(std::move(o));
    if (page->next_continuation_token.empty()) co_return Status::Ok();
    req.continuation_token = std::move(page->next_continuation_token);
  }
}

Awaitable<Result<ListingReport>> Lister::ListOnce() {
  ListingReport report;
  std::vector<ObjectInfo> updates, snaps;
  // The listing's own clock: the Planner judges eligibility at this time,
  // so a partition that becomes eligible during the LIST is not built from
  // a listing taken before it was.
  report.listed_at = clock_->Now();
  if (!last_whole_listing_ || report.listed_at - *last_whole_listing_ >= relist_interval_) {
    partitions_.RelistWhole();
    snapshots_.RelistWhole();
  }
  report.whole_window = partitions_.relisting_whole();
  Status st = co_await ListAfter(updates_prefix_, partitions_.StartAfter(), &updates, &report.list_requests);
  if (st.ok()) st = co_await ListAfter(snapshots_prefix_, snapshots_.StartAfter(), &snaps, &report.list_requests);
  if (!st.ok()) co_return st;  // a whole listing cut short is tried again next time
  if (report.whole_window) last_whole_listing_ = report.listed_at;
  partitions_.Absorb(updates, report.listed_at);
  snapshots_.Absorb(snaps, report.listed_at);
  report.partition_list = partitions_.SharedPartitions();
  report.snapshots = snapshots_.Snapshots();
  report.unparsed_keys = partitions_.unparsed() + snapshots_.unparsed();
  if (report.unparsed_keys > warned_unparsed_) {
    spdlog::warn("lister: {} key(s) outside the layout \"{}\" ignored so far; latest: {}", report.unparsed_keys,
                 layout_pattern_,
                 partitions_.unparsed() ? partitions_.last_unparsed_key() : snapshots_.last_unparsed_key());
    warned_unparsed_ = report.unparsed_keys;
  }
  co_return report;
}

}  // namespace freshet
