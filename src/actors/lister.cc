#include "actors/lister.h"

#include <spdlog/spdlog.h>

#include "actors/store_await.h"

namespace freshet {

Lister::Lister(asio::io_context& io, ObjectStore* source, const Options& options, PartitionLayout layout,
               const PlannerConfig& planner_config, const Clock* clock)
    : mailbox_(io, "lister", 64), source_(source), planner_config_(planner_config), clock_(clock),
      partitions_(options.source.updates_prefix, layout,
                  planner_config.interval + planner_config.grace),
      snapshots_(options.source.snapshots_prefix, layout, planner_config.snapshot_grace),
      updates_prefix_(options.source.updates_prefix), snapshots_prefix_(options.source.snapshots_prefix),
      layout_pattern_(options.source.layout) {}

void Lister::SetCheckpoint(Checkpoint checkpoint) {
  mailbox_.Post([self = shared_from_this(), cp = std::move(checkpoint)] {
    ListingBounds b = ListingBoundsFor(self->planner_config_, cp);
    self->partitions_.SetLowerBound(b.partitions_from);
    self->snapshots_.SetLowerBound(b.snapshots_from);
  });
}

void Lister::Ping(std::function<void()> pong) {
  mailbox_.Post([pong = std::move(pong)] { pong(); });
}

void Lister::List(Done done) {
  auto self = shared_from_this();
  bool ok = mailbox_.Post([self, done]() mutable {
    asio::co_spawn(self->mailbox_.strand(), self->RunList(std::move(done)), asio::detached);
  });
  if (!ok) done(Status::Unavailable("lister mailbox full"));
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

Awaitable<void> Lister::RunList(Done done) {
  auto self = shared_from_this();  // keeps the actor alive across suspensions
  ListingReport report;
  std::vector<ObjectInfo> updates, snaps;
  TimePoint now = clock_->Now();
  Status st = co_await ListAfter(updates_prefix_, partitions_.StartAfter(), &updates, &report.list_requests);
  if (st.ok()) st = co_await ListAfter(snapshots_prefix_, snapshots_.StartAfter(), &snaps, &report.list_requests);
  if (!st.ok()) {
    done(st);
    co_return;
  }
  partitions_.Absorb(updates, now);
  snapshots_.Absorb(snaps, now);
  report.partitions = partitions_.Partitions();
  report.snapshots = snapshots_.Snapshots();
  report.unparsed_keys = partitions_.unparsed() + snapshots_.unparsed();
  if (report.unparsed_keys > warned_unparsed_) {
    spdlog::warn("lister: {} key(s) outside the layout \"{}\" ignored so far; latest: {}", report.unparsed_keys, layout_pattern_,
                 partitions_.unparsed() ? partitions_.last_unparsed_key() : snapshots_.last_unparsed_key());
    warned_unparsed_ = report.unparsed_keys;
  }
  done(std::move(report));
}

}  // namespace freshet
