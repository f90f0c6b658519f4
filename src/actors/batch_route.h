// Where the end of a batch goes, whichever actor ends it (the Lister on a
// failed listing, the Planner when idle, the Builder on a failed build,
// the Committer on commit or failure): the status board first (report,
// metrics, log line), then the Watchdog (batch stall tracking), then the
// Ticker, whose next trigger may start the next batch.
#pragma once

#include <optional>

#include "actors/mailbox.h"
#include "actors/messages.h"
#include "admin/status_board.h"

namespace freshet {

struct BatchRoute {
  StatusBoard* board = nullptr;
  Mailbox<WatchdogMsg>* watchdog = nullptr;
  Mailbox<TickerMsg>* ticker = nullptr;

  // REQUIRES: p.outcome is kCommitted, kIdle or kFailed; `committed` is
  // the checkpoint after a commit. An idle batch that cannot progress
  // (`blocked`) counts as failed for the Ticker.
  void End(const BatchProgress& p, std::optional<Checkpoint> committed = std::nullopt, bool blocked = false) const {
    const bool built = p.outcome == BatchOutcome::kCommitted;
    const bool failed = p.outcome == BatchOutcome::kFailed || blocked;
    board->Publish(BatchEnded{p, std::move(committed)});
    if (p.batch_id) MustDeliver(watchdog->Post(BatchFinished{p.batch_id, built, failed}));
    MustDeliver(ticker->Post(BatchFinished{p.batch_id, built, failed}));
  }
};

}  // namespace freshet
