// Planner actor: turns each listing into a decision with the pure planner
// (plan/batch_planner.h), judged at the listing's own time, against its
// copy of the checkpoint (updated only by CheckpointAdvanced). A plan
// goes to the Builder; nothing to build ends the batch as idle.
//
// Receives PlanRequest, CheckpointAdvanced, Ping. Planning is quick and
// synchronous: it runs inside the receive loop.
//
// Strand: all state lives in the receive loop on the mailbox's strand.
#pragma once

#include <memory>

#include "actors/batch_route.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "plan/batch_planner.h"

namespace freshet {

class Planner : public std::enable_shared_from_this<Planner> {
 public:
  struct Outputs {
    Mailbox<BuilderMsg>* builder = nullptr;
    Mailbox<WatchdogMsg>* watchdog = nullptr;
    BatchRoute route;
  };
  Planner(asio::io_context& io, PlannerConfig config, Checkpoint checkpoint);

  // REQUIRES: before Start(); every output set.
  void Connect(Outputs out) { out_ = std::move(out); }
  void Start();
  Mailbox<PlannerMsg>& mailbox() { return mailbox_; }

 private:
  Awaitable<void> Run();
  void OnPlanRequest(PlanRequest m);

  Mailbox<PlannerMsg> mailbox_;
  PlannerConfig config_;
  Checkpoint checkpoint_;
  // The last partition list the Lister shared, and whether it is normalized
  // (IsNormalizedListing), so that Plan skips the O(history) check.
  std::shared_ptr<const std::vector<PartitionListing>> checked_list_;
  bool checked_list_normalized_ = false;
  Outputs out_;
};

}  // namespace freshet
