// Planner actor: turns each listing into a decision with the pure planner
// (plan/batch_planner.h) against its copy of the checkpoint, which the
// Committer updates after every commit.
//
// Strand: the checkpoint is touched only on the mailbox's strand.
#pragma once

#include <functional>
#include <memory>

#include "actors/lister.h"
#include "actors/mailbox.h"
#include "base/clock.h"
#include "plan/batch_planner.h"

namespace freshet {

class Planner : public std::enable_shared_from_this<Planner> {
 public:
  using Done = std::function<void(PlanDecision)>;
  Planner(asio::io_context& io, PlannerConfig config, Checkpoint checkpoint, const Clock* clock);

  void SetCheckpoint(Checkpoint checkpoint);
  // Plans against `listing`; `done` runs on the Planner's strand.
  void Plan(ListingReport listing, Done done);
  void Ping(std::function<void()> pong);
  Mailbox& mailbox() { return mailbox_; }

 private:
  Mailbox mailbox_;
  PlannerConfig config_;
  Checkpoint checkpoint_;
  const Clock* clock_;
};

}  // namespace freshet
