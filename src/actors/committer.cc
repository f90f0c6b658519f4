#include "actors/committer.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>

#include "actors/bounded_parallel.h"
#include "actors/crash_points.h"
#include "actors/store_await.h"

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

Awaitable<Status> Committer::Put(std::string key, std::string body) {
  PutRequest req{std::move(key), std::move(body), false};
  std::string name = req.key;
  Result<ObjectInfo> r = co_await AwaitPut(sink_, std::move(req));
  co_return r.ok() ? Status::Ok() : r.status().WithContext("put " + name);
}

Awaitable<void> Committer::RunCommit(BuildPlan plan, BuiltBatch built, Checkpoint before, Done done) {
  auto self = shared_from_this();
  CommitReport report;
  auto t0 = std::chrono::steady_clock::now();
  CrashPoint("before-segments");

  // 1. Segment files: the full's first, so a delta never exists without its base.
  // The bodies move into the requests: a copy of tens of MB (and the page
  // faults of fresh memory) would hold this strand, and with it the event
  // loop, for a noticeable time. A failed commit rebuilds the batch anyway.
  std::vector<PutRequest> files;
  std::vector<BuiltGeneration*> gens;
  if (built.full) gens.push_back(&*built.full);
  gens.push_back(&built.delta);
  for (BuiltGeneration* g : gens) {
    for (auto& f : g->files) {
      report.bytes_written += f.bytes.size();
      files.push_back({GenerationFileKey(g->id, f.name), std::move(f.bytes), false});
    }
  }
  Status st = co_await PutAll(std::move(files), true);
  if (!st.ok()) {
    done(st);
    co_return;
  }
  report.write_seconds = SecondsSince(t0);
  auto t1 = std::chrono::steady_clock::now();

  // 2. Manifests.
  CrashPoint("before-manifest");
  for (const BuiltGeneration* g : gens) {
    report.bytes_written += g->manifest_json.size();
    st = co_await Put(GenerationFileKey(g->id, kManifestName), g->manifest_json);
    if (!st.ok()) {
      done(st);
      co_return;
    }
  }

  // 3. CURRENT.
  CrashPoint("before-current");
  Checkpoint after = AdvanceCheckpoint(before, plan);
  CurrentPointer current;
  current.full = after.base_generation;
  current.delta = after.delta_generation;
  current.watermark = after.watermark;
  current.checkpoint = after;
  st = co_await Put(std::string(kCurrentKey), EncodeCurrent(current));
  if (!st.ok()) {
    done(st);
    co_return;
  }

  // 4. The durable watermark.
  CrashPoint("before-checkpoint");
  st = co_await Put(std::string(kCheckpointKey), EncodeCheckpoint(after));
  if (!st.ok()) {
    // CURRENT is already live and names complete generations, and a restart
    // resumes from the checkpoint embedded in it: report, don't roll back.
    done(st.WithContext("batch visible in CURRENT but checkpoint write failed"));
    co_return;
  }
  CrashPoint("after-checkpoint");

  // 5. Retention.
  Result<uint64_t> deleted = co_await ApplyRetention(current);
  if (deleted.ok()) {
    report.deleted_generations = *deleted;
  } else {
    report.retention_status = deleted.status();
    spdlog::warn("retention: {} (will retry after the next commit)", deleted.status().ToString());
  }
  report.commit_seconds = SecondsSince(t1);
  report.checkpoint = std::move(after);
  done(std::move(report));
}

Awaitable<Result<uint64_t>> Committer::ApplyRetention(const CurrentPointer& current) {
  // Names CURRENT or the checkpoint's recent batches still reference are
  // kept whatever their age; beyond those, the newest `retain_` per kind.
  std::set<std::string> referenced = {current.full, current.delta};
  for (const auto& b : current.checkpoint.recent) {
    referenced.insert(b.full_generation);
    referenced.insert(b.delta_generation);
  }
  uint64_t deleted = 0;
  bool first_delete = true;
  for (const char* kind : {"full/", "delta/"}) {
    ListGenerationsStart start{sink_, kind};
    Result<std::vector<std::string>> gens = co_await AwaitStore<std::vector<std::string>>(std::move(start));
    if (!gens.ok()) co_return gens.status();
    // Ids begin with their UTC time stamp: lexicographic order is age order.
    std::vector<std::string> ids = std::move(gens).value();
    std::sort(ids.begin(), ids.end());
    if (ids.size() <= retain_) continue;
    size_t removable = ids.size() - retain_;
    for (size_t i = 0; i < removable; ++i) {
      const std::string& id = ids[i];
      if (referenced.count(id)) continue;
      // Manifest first: a half-deleted generation must not look complete.
      Result<Unit> r = co_await AwaitDelete(sink_, GenerationFileKey(id, kManifestName));
      if (!r.ok()) co_return r.status().WithContext("delete " + id);
      if (first_delete) {
        CrashPoint("mid-retention");
        first_delete = false;
      }
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
  }
  co_return deleted;
}

}  // namespace freshet
