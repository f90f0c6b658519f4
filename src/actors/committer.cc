#include "actors/committer.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/bounded_parallel.h"
#include "actors/crash_points.h"
#include "actors/store_await.h"
#include "sink/commit_plan.h"

namespace freshet {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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

Committer::Committer(asio::io_context& io, ObjectStore* sink, uint32_t retain_generations, uint32_t write_parallelism)
    : mailbox_(io, "committer", 8), sink_(sink), retain_(std::max<uint32_t>(retain_generations, 2)),
      write_parallelism_(std::max<uint32_t>(write_parallelism, 1)) {}

void Committer::Ping(std::function<void()> pong) {
  mailbox_.Post([pong = std::move(pong)] { pong(); });
}

void Committer::Commit(BuildPlan plan, BuiltBatch built, Checkpoint before, Done done) {
  auto self = shared_from_this();
  auto payload = std::make_shared<std::tuple<BuildPlan, BuiltBatch, Checkpoint>>(std::move(plan), std::move(built),
                                                                                  std::move(before));
  bool ok = mailbox_.Post([self, payload, done]() mutable {
    asio::co_spawn(self->mailbox_.strand(),
                   self->RunCommit(std::move(std::get<0>(*payload)), std::move(std::get<1>(*payload)),
                                   std::move(std::get<2>(*payload)), std::move(done)),
                   asio::detached);
  });
  if (!ok) done(Status::Unavailable("committer mailbox full"));
}

Awaitable<Status> Committer::PutAll(std::vector<PutRequest> puts, bool crash_after_first) {
  PutAllStart start{sink_, std::make_shared<std::vector<PutRequest>>(std::move(puts)), write_parallelism_,
                    crash_after_first};
  Result<Unit> r = co_await AwaitStore<Unit>(std::move(start));
  co_return r.status();
}

Awaitable<void> Committer::RunCommit(BuildPlan plan, BuiltBatch built, Checkpoint before, Done done) {
  auto self = shared_from_this();
  CommitReport report;
  auto t0 = std::chrono::steady_clock::now();
  // The bodies move into the requests: a copy of tens of MB (and the page
  // faults of fresh memory) would hold this strand, and with it the event
  // loop, for a noticeable time. A failed commit rebuilds the batch anyway.
  CommitPlan commit = MakeCommitPlan(plan, std::move(built), before);
  report.bytes_written = commit.bytes;
  for (size_t i = 0; i < commit.steps.size(); ++i) {
    CommitStep& step = commit.steps[i];
    if (!step.crash_point.empty()) CrashPoint(step.crash_point);
    if (i == 1) {
      report.write_seconds = SecondsSince(t0);
      t0 = std::chrono::steady_clock::now();
    }
    Status st = co_await PutAll(std::move(step.puts), i == 0);
    if (!st.ok()) {
      done(st);
      co_return;
    }
  }
  CrashPoint("after-current");

  // Retention.
  Result<uint64_t> deleted = co_await ApplyRetention(commit.current);
  if (deleted.ok()) {
    report.deleted_generations = *deleted;
  } else {
    report.retention_status = deleted.status();
    spdlog::warn("retention: {} (will retry after the next commit)", deleted.status().ToString());
  }
  report.commit_seconds = SecondsSince(t0);
  report.checkpoint = std::move(commit.current.checkpoint);
  done(std::move(report));
}

Awaitable<Result<uint64_t>> Committer::ApplyRetention(const CurrentPointer& current) {
  std::vector<std::string> listed[2];
  for (int k = 0; k < 2; ++k) {
    ListGenerationsStart start{sink_, k == 0 ? "full/" : "delta/"};
    Result<std::vector<std::string>> gens = co_await AwaitStore<std::vector<std::string>>(std::move(start));
    if (!gens.ok()) co_return gens.status();
    listed[k] = std::move(gens).value();
  }
  uint64_t deleted = 0;
  for (const std::string& id : RetentionVictims(current, std::move(listed[0]), std::move(listed[1]), retain_)) {
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
