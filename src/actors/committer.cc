#include "actors/committer.h"

#include <algorithm>
#include <chrono>

#include <boost/asio/redirect_error.hpp>
#include <spdlog/spdlog.h>

#include "actors/bounded_parallel.h"
#include "actors/crash_points.h"
#include "actors/store_await.h"
#include "base/elapsed.h"
#include "commit/commit_plan.h"

namespace freshet {
namespace {

struct PutAllStart {
  ObjectStore* sink;
  std::shared_ptr<std::vector<PutRequest>> puts;
  size_t parallelism;
  bool crash_after_first;
  void operator()(StoreCallback<Unit> done) {
    auto written = std::make_shared<std::atomic<size_t>>(0);
    BoundedParallel::Run(
        puts->size(), parallelism,
        [sink = sink, puts = puts, written, crash = crash_after_first](size_t i, std::function<void(Status)> complete) {
          PutRequest req = std::move((*puts)[i]);  // each index runs once: no copy of the body
          std::string key = req.key;
          sink->Put(std::move(req), [complete, key, written, crash](Result<ObjectInfo> r) {
            if (r.ok() && crash && written->fetch_add(1) == 0) CrashPoint("mid-segments");
            complete(r.ok() ? Status::Ok() : r.status().WithContext("put " + key));
          });
        },
        [done](Status st) {
          if (st.ok()) done(Unit{});
          else done(st);
        });
  }
};

// Generations under "<kind>/" in the sink, by listing with a delimiter.
struct ListGenerationsStart {
  ObjectStore* sink;
  std::string kind_prefix;  // "full/" or "delta/"
  void operator()(StoreCallback<std::vector<std::string>> done) {
    auto out = std::make_shared<std::vector<std::string>>();
    auto step = std::make_shared<std::function<void(std::string)>>();
    *step = [sink = sink, prefix = kind_prefix, out, done, step](std::string token) {
      ListRequest req;
      req.prefix = prefix;
      req.delimiter = "/";
      req.continuation_token = std::move(token);
      sink->List(std::move(req), [out, done, step](Result<ListPage> page) {
        if (!page.ok()) {
          done(page.status());
          *step = nullptr;  // break the cycle
          return;
        }
        for (auto& p : page->common_prefixes) {
          if (!p.empty() && p.back() == '/') p.pop_back();
          out->push_back(std::move(p));
        }
        if (page->next_continuation_token.empty()) {
          done(std::move(*out));
          *step = nullptr;
          return;
        }
        (*step)(std::move(page->next_continuation_token));
      });
    };
    (*step)("");
  }
};

}  // namespace

Committer::Committer(asio::io_context& io, ObjectStore* sink, Config config, Checkpoint checkpoint,
                     std::optional<std::string> current_etag, const Clock* clock, std::optional<Lease> lease)
    : mailbox_(io, "committer", 8), sink_(sink), config_(config), checkpoint_(std::move(checkpoint)),
      current_etag_(std::move(current_etag)), clock_(clock), lease_(std::move(lease)),
      lease_timer_(mailbox_.strand(), clock), merge_arrived_(mailbox_.strand()) {
  config_.retain_generations = std::max<uint32_t>(config_.retain_generations, 2);
  config_.write_parallelism = std::max<uint32_t>(config_.write_parallelism, 1);
}

void Committer::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Committer::Run() {
  auto self = shared_from_this();  // alive until the mailbox closes
  ArmLease();
  // Retention at start-up too: a run killed while deleting left
  // generations nothing names; they go now rather than after the next
  // commit. (Messages wait in the mailbox meanwhile.)
  if (!checkpoint_.base_generation.empty() || !checkpoint_.delta_generation.empty()) {
    Result<uint64_t> deleted = co_await ApplyRetention(CurrentFrom(checkpoint_));
    if (!deleted.ok()) spdlog::warn("retention at start-up: {} (will retry after the next commit)", deleted.status().ToString());
    else if (*deleted > 0) spdlog::info("retention at start-up: deleted {} generation(s)", *deleted);
  }
  while (std::optional<CommitterMsg> msg = co_await mailbox_.Receive()) {
    if (std::holds_alternative<LeaseDue>(*msg)) {
      if (!renewing_ && !fenced_) {
        renewing_ = true;
        asio::co_spawn(mailbox_.strand(), RenewLease(), asio::detached);
      }
      continue;
    }
    if (auto* req = std::get_if<CommitRequest>(&*msg)) {
      if (committing_) {
        BatchProgress p = std::move(req->progress);
        p.outcome = BatchOutcome::kFailed;
        p.message = "committer: another commit is in flight";
        out_.route.End(p);
        continue;
      }
      committing_ = true;
      asio::co_spawn(mailbox_.strand(), OnCommitRequest(std::move(*req)), asio::detached);
    } else if (auto* ready = std::get_if<MergeReady>(&*msg)) {
      if (checkpoint_.pending_merge && checkpoint_.pending_merge->id == ready->id) {
        merge_ = std::move(ready->merged);
        merge_settled_ = ready->id;
        merge_arrived_.cancel();
      }
    } else if (auto* failed = std::get_if<MergeFailed>(&*msg)) {
      spdlog::warn("merge {}: {}; the next commit goes without it", failed->id, failed->message);
      if (checkpoint_.pending_merge && checkpoint_.pending_merge->id == failed->id) {
        merge_.reset();
        merge_settled_ = failed->id;
        merge_arrived_.cancel();
      }
    } else if (auto* ping = std::get_if<Ping>(&*msg)) {
      (void)out_.watchdog->Post(Pong{"committer", ping->seq});
    }
  }
  lease_timer_.Cancel();
}

void Committer::ArmLease() {
  if (!lease_ || fenced_) return;
  lease_timer_.Arm(clock_->Now() + std::max<Duration>(lease_->ttl / 3, std::chrono::seconds(1)),
                   [weak = weak_from_this()] {
                     if (auto self = weak.lock()) (void)self->mailbox_.Post(LeaseDue{});
                   });
}

void Committer::Fenced(const std::string& reason) {
  fenced_ = true;
  lease_timer_.Cancel();
  if (out_.control) MustDeliver(out_.control->Post(WriterFenced{reason}));
}

// The lease, renewed in place. A precondition failure means another
// writer took it (this one did not renew within the lease): the run ends.
Awaitable<void> Committer::RenewLease() {
  auto self = shared_from_this();
  WriterLease renewed = lease_->me;
  renewed.renewed = clock_->Now();
  PutRequest put{std::string(kWriterLeaseKey), EncodeWriterLease(renewed), false, lease_->etag};
  Result<ObjectInfo> written = co_await AwaitPut(sink_, std::move(put));
  renewing_ = false;
  if (written.ok()) {
    lease_->me = renewed;
    lease_->etag = written->etag;
  } else if (written.status().code() == StatusCode::kFailedPrecondition) {
    GetRequest read{std::string(kWriterLeaseKey), std::nullopt};
    Result<GetResult> now = co_await AwaitGet(sink_, std::move(read));
    Result<WriterLease> other = now.ok() ? DecodeWriterLease(now->body) : Result<WriterLease>(now.status());
    Fenced("sink " + sink_->Describe() + ": the writer lease was taken by " +
           (other.ok() ? other->Holder() + " at " + FormatRfc3339(other->renewed) : std::string("another writer")) +
           " (this daemon did not renew it within " + FormatDuration(lease_->ttl) +
           "). One writer per sink: this daemon stops");
    co_return;
  } else {
    spdlog::warn("writer lease: renewal failed, retrying: {}", written.status().ToString());
  }
  ArmLease();
}

Awaitable<void> Committer::OnCommitRequest(CommitRequest m) {
  auto self = shared_from_this();
  BatchProgress& p = m.progress;
  Result<CommitReport> c = co_await Commit(std::move(m.plan), std::move(m.built));
  committing_ = false;
  if (!c.ok()) {
    p.outcome = BatchOutcome::kFailed;
    p.message = c.status().ToString();
    out_.route.End(p);
      co_return;
  }
  p.seconds(Stage::kWrite) = c->write_seconds;
  p.seconds(Stage::kCommit) = c->commit_seconds;
  p.stages_reached = static_cast<int>(Stage::kCount);
  p.outcome = BatchOutcome::kCommitted;
  p.since_trigger_seconds = std::max(0.0, std::chrono::duration<double>(clock_->Now() - p.trigger_time).count());
  if (c->checkpoint.watermark) {
    p.watermark = FormatRfc3339(*c->checkpoint.watermark);
    TimePoint end = *c->checkpoint.watermark + config_.partition_interval;
    p.freshness_lag_seconds = std::chrono::duration<double>(clock_->Now() - end).count();
  }
  checkpoint_ = c->checkpoint;
  // The acknowledgment first, then the batch's end (see messages.h).
  MustDeliver(out_.lister->Post(CheckpointAdvanced{checkpoint_}));
  MustDeliver(out_.planner->Post(CheckpointAdvanced{checkpoint_}));
  if (out_.merger) MustDeliver(out_.merger->Post(CheckpointAdvanced{checkpoint_}));
  out_.route.End(p, checkpoint_);
}

Awaitable<const BuiltGeneration*> Committer::AwaitMerge(const BuildPlan& plan) {
  if (!checkpoint_.pending_merge || plan.kind != BatchKind::kDelta || !out_.merger) co_return static_cast<const BuiltGeneration*>(nullptr);
  const std::string id = checkpoint_.pending_merge->id;
  // The Merger started on it when the previous batch committed; in steady
  // state it is long done. Bounded: a merge that never comes is dropped.
  const auto give_up = std::chrono::steady_clock::now() + kMergeWait;
  while (merge_settled_ != id && std::chrono::steady_clock::now() < give_up) {
    merge_arrived_.expires_at(give_up);
    boost::system::error_code ec;
    co_await merge_arrived_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (merge_settled_ != id) {
    spdlog::warn("merge {} not built within {} s; this commit goes without it", id,
                 std::chrono::duration_cast<std::chrono::seconds>(kMergeWait).count());
    co_return static_cast<const BuiltGeneration*>(nullptr);
  }
  co_return merge_ ? &*merge_ : nullptr;
}

Awaitable<Status> Committer::PutAll(std::vector<PutRequest> puts, bool crash_after_first) {
  PutAllStart start{sink_, std::make_shared<std::vector<PutRequest>>(std::move(puts)), config_.write_parallelism,
                    crash_after_first};
  Result<Unit> r = co_await AwaitStore<Unit>(std::move(start));
  co_return r.status();
}

// CURRENT, conditional on the version this writer knows. When the put
// fails, CURRENT is read back: holding our very bytes, the put went through
// (its response was lost, now or in an earlier attempt of this batch) and
// that is success. Otherwise a precondition failure means another writer
// replaced it: say what we found there, and end the run (a restart would
// resume from the other writer's CURRENT). Other errors fail the batch as
// usual.
Awaitable<Status> Committer::PutCurrent(PutRequest put) {
  const std::string ours = put.body;  // a few KB
  Result<ObjectInfo> written = co_await AwaitPut(sink_, std::move(put));
  if (written.ok()) {
    current_etag_ = written->etag;
    co_return Status::Ok();
  }
  const StatusCode code = written.status().code();
  const bool conflict = code == StatusCode::kFailedPrecondition || code == StatusCode::kAlreadyExists;
  std::string found = "no CURRENT";
  // A named request: g++ 12 destroys a temporary in a co_await operand twice.
  GetRequest read_back{std::string(kCurrentKey), std::nullopt};
  Result<GetResult> now = co_await AwaitGet(sink_, std::move(read_back));
  if (now.ok() && now->body == ours) {
    spdlog::info("CURRENT already holds this batch's commit (an earlier attempt's response was lost): {}",
                 written.status().ToString());
    current_etag_ = now->info.etag;
    co_return Status::Ok();
  }
  if (!conflict) co_return written.status().WithContext("put " + std::string(kCurrentKey));
  if (now.ok()) {
    Result<CurrentPointer> cur = DecodeCurrent(now->body);
    found = cur.ok() ? "a CURRENT at watermark " +
                           (cur->watermark ? FormatRfc3339(*cur->watermark) : std::string("none")) + ", next batch " +
                           std::to_string(cur->checkpoint.next_batch_id) + ", delta " + cur->delta
                     : "an unreadable CURRENT (" + cur.status().message() + ")";
  } else if (now.status().code() != StatusCode::kNotFound) {
    found = "CURRENT unreadable: " + now.status().message();
  }
  std::string reason = "sink " + sink_->Describe() + ": another writer replaced CURRENT since this daemon read it (" +
                       found + "; expected ETag " + current_etag_.value_or("none, a new sink") +
                       "). One writer per sink: this daemon stops without committing; stop the other writer or "
                       "point this one at another sink";
  Fenced(reason);
  co_return Status::FailedPrecondition(reason);
}

Awaitable<Result<CommitReport>> Committer::Commit(BuildPlan plan, BuiltBatch built) {
  if (plan.batch_id != checkpoint_.next_batch_id) {
    co_return Status::FailedPrecondition("batch " + std::to_string(plan.batch_id) +
                                         " was planned against another checkpoint (next batch is " +
                                         std::to_string(checkpoint_.next_batch_id) + "); not committed");
  }
  CommitReport report;
  // The bodies move into the requests: a copy of tens of MB (and the page
  // faults of fresh memory) would hold this strand, and with it the event
  // loop, for a noticeable time. A failed commit rebuilds the batch anyway.
  const BuiltGeneration* merged = co_await AwaitMerge(plan);
  CommitPlan commit = MakeCommitPlan(plan, std::move(built), checkpoint_, current_etag_, merged, config_.merge_policy);
  report.bytes_written = commit.bytes;
  Status st = co_await RunSteps(commit, &report);
  if (!st.ok()) co_return st;
  report.checkpoint = std::move(commit.current.checkpoint);
  co_return report;
}

Awaitable<Status> Committer::RunSteps(CommitPlan& commit, CommitReport* report) {
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < commit.steps.size(); ++i) {
    CommitStep& step = commit.steps[i];
    if (!step.crash_point.empty()) CrashPoint(step.crash_point);
    if (i == 1) {
      report->write_seconds = SecondsSince(t0);
      t0 = std::chrono::steady_clock::now();
    }
    // The last step is CURRENT alone. (No co_await inside ?: — g++ 12
    // miscompiles it.)
    Status st;
    if (i + 1 == commit.steps.size()) {
      st = co_await PutCurrent(std::move(step.puts.front()));
    } else {
      st = co_await PutAll(std::move(step.puts), i == 0);
    }
    if (!st.ok()) co_return st;
  }
  CrashPoint("after-current");

  Result<uint64_t> deleted = co_await ApplyRetention(commit.current);
  if (deleted.ok()) {
    report->deleted_generations = *deleted;
  } else {
    report->retention_status = deleted.status();
    spdlog::warn("retention: {} (will retry after the next commit)", deleted.status().ToString());
  }
  report->commit_seconds = SecondsSince(t0);
  co_return Status::Ok();
}

Awaitable<Result<uint64_t>> Committer::ApplyRetention(CurrentPointer current) {
  std::vector<std::string> listed[2];
  for (int k = 0; k < 2; ++k) {
    ListGenerationsStart start{sink_, k == 0 ? "full/" : "delta/"};
    Result<std::vector<std::string>> gens = co_await AwaitStore<std::vector<std::string>>(std::move(start));
    if (!gens.ok()) co_return gens.status();
    listed[k] = std::move(gens).value();
  }
  uint64_t deleted = 0;
  for (const std::string& id : RetentionVictims(current, std::move(listed[0]), std::move(listed[1]), config_.retain_generations)) {
    // Manifest first: a half-deleted generation must not look complete.
    Result<Unit> r = co_await AwaitDelete(sink_, GenerationFileKey(id, kManifestName));
    if (!r.ok()) co_return r.status().WithContext("delete " + id);
    if (deleted == 0) CrashPoint("mid-retention");
    std::vector<ObjectInfo> objects;
    ListRequest req;
    req.prefix = id + "/";
    for (;;) {
      Result<ListPage> page = co_await AwaitList(sink_, req);
      if (!page.ok()) co_return page.status().WithContext("list " + id);
      for (auto& o : page->objects) objects.push_back(std::move(o));
      if (page->next_continuation_token.empty()) break;
      req.continuation_token = page->next_continuation_token;
    }
    for (const auto& o : objects) {
      Result<Unit> d = co_await AwaitDelete(sink_, o.key);
      if (!d.ok()) co_return d.status().WithContext("delete " + o.key);
    }
    ++deleted;
  }
  co_return deleted;
}

}  // namespace freshet
