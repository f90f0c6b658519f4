#include "actors/planner.h"

namespace freshet {

Planner::Planner(asio::io_context& io, PlannerConfig config, Checkpoint checkpoint, const Clock* clock)
    : mailbox_(io, "planner", 64), config_(std::move(config)), checkpoint_(std::move(checkpoint)), clock_(clock) {}

void Planner::SetCheckpoint(Checkpoint checkpoint) {
  mailbox_.Post([self = shared_from_this(), cp = std::move(checkpoint)]() mutable { self->checkpoint_ = std::move(cp); });
}

void Planner::Plan(ListingReport listing, Done done) {
  auto self = shared_from_this();
  bool ok = mailbox_.Post([self, listing = std::move(listing), done]() mutable {
    done(freshet::Plan(self->config_, self->checkpoint_, listing.partitions, listing.snapshots, self->clock_->Now()));
  });
  if (!ok) {
    IdleDecision idle;
    idle.reason = "planner mailbox full";
    done(PlanDecision{std::move(idle)});
  }
}

void Planner::Ping(std::function<void()> pong) {
  mailbox_.Post([pong = std::move(pong)] { pong(); });
}

}  // namespace freshet
