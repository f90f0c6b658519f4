#include "actors/planner.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace freshet {

Planner::Planner(asio::io_context& io, PlannerConfig config, Checkpoint checkpoint)
    : mailbox_(io, "planner", 16), config_(std::move(config)), checkpoint_(std::move(checkpoint)) {}

void Planner::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Planner::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  while (std::optional<PlannerMsg> msg = co_await mailbox_.Receive()) {
    if (auto* req = std::get_if<PlanRequest>(&*msg)) {
      OnPlanRequest(std::move(*req));
    } else if (auto* cp = std::get_if<CheckpointAdvanced>(&*msg)) {
      checkpoint_ = std::move(cp->checkpoint);
    } else if (auto* ping = std::get_if<Ping>(&*msg)) {
      (void)out_.watchdog->Post(Pong{"planner", ping->seq});
    }
  }
}

void Planner::OnPlanRequest(PlanRequest m) {
  const auto t0 = std::chrono::steady_clock::now();
  BatchProgress& p = m.progress;
  // The Lister shares one list while its partitions do not change: checked
  // once for order and inputs, not at every idle tick.
  if (m.listing.partition_list != checked_list_) {
    checked_list_ = m.listing.partition_list;
    checked_list_normalized_ = IsNormalizedListing(*checked_list_);
  }
  PlanDecision d = Plan(config_, checkpoint_, m.listing.partitions(), m.listing.snapshots, m.listing.listed_at,
                        checked_list_normalized_);
  MustDeliver(out_.watchdog->Post(InputWaiting{WaitingSince(d, config_, m.listing.listed_at)}));
  p.seconds(Stage::kPlan) = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.stages_reached = 2;
  p.pending = d.pending().size();

  InputPlanned planned;
  planned.not_eligible = d.pending();
  if (const IdleDecision* idle = d.idle()) {
    planned.not_eligible_snapshots = idle->pending_snapshots;
    planned.idle_reason = idle->reason;
    out_.route.board->Publish(planned);
    for (const auto& w : idle->warnings) spdlog::warn("planner: {}", w);
    p.outcome = BatchOutcome::kIdle;
    p.message = idle->reason;
    out_.route.End(p, std::nullopt, idle->blocked);
    return;
  }
  BuildPlan plan = std::move(*std::get_if<BuildPlan>(&d.outcome));
  planned.batch_id = plan.batch_id;
  planned.backlog = plan.backlog;
  planned.not_eligible_snapshots = plan.pending_snapshots;
  out_.route.board->Publish(planned);
  for (const auto& w : plan.warnings) spdlog::warn("batch {}: {}", plan.batch_id, w);

  p.batch_id = plan.batch_id;
  p.kind = std::string(BatchKindName(plan.kind));
  p.target = plan.target ? FormatRfc3339(*plan.target) : "";
  p.window_start = FormatRfc3339(plan.window_start);
  p.window_end = FormatRfc3339(plan.window_end);
  p.skipped = plan.skipped.size();
  p.delta_generation = plan.delta_generation;
  p.full_generation = plan.full_generation;
  MustDeliver(out_.watchdog->Post(BatchStarted{plan.batch_id}));
  Delivery sent = out_.builder->Post(BuildRequest{p, std::move(plan)});
  if (!Delivered(sent)) {
    p.outcome = BatchOutcome::kFailed;
    p.message = "builder mailbox refused the plan";
    out_.route.End(p);
  }
}

}  // namespace freshet
