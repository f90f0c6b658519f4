#include "actors/merger.h"

#include <chrono>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "actors/compute_await.h"
#include "actors/store_await.h"
#include "base/release_memory.h"
#include "commit/segment_chain.h"
#include "commit/segment_merge.h"
#include "sink/sink_layout.h"

namespace freshet {

Merger::Merger(asio::io_context& io, ObjectStore* sink, ThreadPool* compute, const SchemaOptions& schema,
               std::string schema_hash)
    : mailbox_(io, "merger", 16), sink_(sink), compute_(compute), schema_(schema), schema_hash_(std::move(schema_hash)) {}

void Merger::Start() { asio::co_spawn(mailbox_.strand(), Run(), asio::detached); }

Awaitable<void> Merger::Run() {
  auto self = shared_from_this();
  while (std::optional<MergerMsg> msg = co_await mailbox_.Receive()) {
    if (auto* advanced = std::get_if<CheckpointAdvanced>(&*msg)) {
      latest_ = std::move(advanced->checkpoint);
      MaybeStart();
    } else if (auto* ping = std::get_if<Ping>(&*msg)) {
      if (out_.watchdog) (void)out_.watchdog->Post(Pong{"merger", ping->seq});
    }
  }
}

void Merger::MaybeStart() {
  if (building_ || !latest_ || !latest_->pending_merge || latest_->pending_merge->id == built_) return;
  building_ = true;
  // Its own coroutine: heartbeats and newer checkpoints are taken meanwhile.
  asio::co_spawn(mailbox_.strand(), BuildTask(*latest_), asio::detached);
}

Awaitable<void> Merger::BuildTask(Checkpoint cp) {
  auto self = shared_from_this();
  const std::string id = cp.pending_merge->id;
  spdlog::info("merger: building {} from {} segments", id, cp.pending_merge->run.size());
  auto t0 = std::chrono::steady_clock::now();
  Result<BuiltGeneration> merged = co_await Build(std::move(cp));
  if (merged.ok()) {
    Status written = co_await WriteAhead(*merged);
    if (!written.ok()) merged = written;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  built_ = id;
  building_ = false;
  if (merged.ok()) {
    spdlog::info("merger: built {} ({} docs, {} tombstones, {} bytes) in {:.0f} ms", id, merged->docs,
                 merged->tombstones, merged->output_bytes, ms);
    MustDeliver(out_.committer->Post(MergeReady{id, std::move(merged).value()}));
  } else {
    spdlog::warn("merger: {}: {}", id, merged.status().ToString());
    MustDeliver(out_.committer->Post(MergeFailed{id, merged.status().ToString()}));
  }
  MaybeStart();
}

Awaitable<Status> Merger::WriteAhead(BuiltGeneration& merged) {
  // Its files, then its manifest (complete only then), as a commit would
  // write them; a crash part way leaves a generation nothing names but the
  // pending merge, which retention keeps and the restarted Merger rewrites
  // with the same bytes. A retryable failure is retried with backoff, as a
  // failed batch is: a merge dropped for a transient fault would make the
  // chain depend on the faults (PipelineFaultsTest).
  auto put_with_retries = [this](const std::string& key, const std::string& body,
                                 const std::shared_ptr<const SpoolFile>& spool) -> Awaitable<Status> {
    asio::steady_timer backoff(mailbox_.strand());
    Status st;
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      if (attempt > 0) {
        backoff.expires_after(kFirstBackoff * (1 << (attempt - 1)));
        boost::system::error_code ec;
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      PutRequest put{key, body, false};
      put.body_file = spool;
      Result<ObjectInfo> r = co_await AwaitPut(sink_, std::move(put));
      if (r.ok()) co_return Status::Ok();
      st = r.status();
      if (!st.retryable()) break;
    }
    co_return st.WithContext("writing the merged segment's " + key);
  };
  // Named arguments: g++ 12 destroys a temporary in a co_await operand twice.
  for (SegmentFile& f : merged.files) {
    const std::string key = GenerationFileKey(merged.id, f.name);
    Status st = co_await put_with_retries(key, f.bytes, f.spool);
    if (!st.ok()) co_return st;
    FreeBuffer(f.bytes);
  }
  const std::string manifest_key = GenerationFileKey(merged.id, kManifestName);
  const std::shared_ptr<const SpoolFile> in_memory;
  Status st = co_await put_with_retries(manifest_key, merged.manifest_json, in_memory);
  if (!st.ok()) co_return st;
  merged.in_sink = true;
  co_return Status::Ok();
}

Awaitable<Result<Manifest>> Merger::ManifestOf(const std::string& id) {
  if (auto it = manifests_.find(id); it != manifests_.end()) co_return it->second;
  GetRequest req;
  req.key = GenerationFileKey(id, kManifestName);
  Result<GetResult> got = co_await AwaitGet(sink_, std::move(req));
  if (!got.ok()) co_return got.status().WithContext("reading " + id + "'s manifest");
  Result<Manifest> m = ParseManifest(got->body);
  if (!m.ok()) co_return m.status().WithContext(id);
  manifests_[id] = *m;
  co_return m;
}

Awaitable<Result<BuiltGeneration>> Merger::Build(Checkpoint cp) {
  const Checkpoint::PendingMerge& pm = *cp.pending_merge;
  const std::vector<std::string>& chain = cp.chain;
  std::erase_if(manifests_, [&chain](const auto& e) {  // forget segments that left the chain
    return std::find(chain.begin(), chain.end(), e.first) == chain.end();
  });
  // The window before the run (the manifests before it), and the run's bytes.
  std::vector<Manifest> before;
  for (size_t i = 0; i < pm.begin; ++i) {
    Result<Manifest> m = co_await ManifestOf(chain[i]);
    if (!m.ok()) co_return m.status();
    before.push_back(std::move(m).value());
  }
  Result<std::vector<ObjectInfo>> window_before = ChainWindow(before, cp.base_generation);
  if (!window_before.ok()) co_return window_before.status();
  auto run = std::make_shared<std::vector<SegmentBytes>>();
  for (const std::string& id : pm.run) {
    Result<Manifest> m = co_await ManifestOf(id);
    if (!m.ok()) co_return m.status();
    SegmentBytes s;
    s.manifest = std::move(m).value();
    for (const ManifestFile& f : s.manifest.files) {
      GetRequest req;
      req.key = GenerationFileKey(id, f.name);
      Result<GetResult> got = co_await AwaitGet(sink_, std::move(req));
      if (!got.ok()) co_return got.status().WithContext("reading " + GenerationFileKey(id, f.name));
      s.files[f.name] = std::move(got->body);
    }
    run->push_back(std::move(s));
  }
  GenerationContext ctx{&schema_, schema_hash_, 1.0};
  ctx.threads = 1;  // beside the batches: one pool thread, never the whole pool
  auto window = std::make_shared<std::vector<ObjectInfo>>(std::move(window_before).value());
  std::function<Result<BuiltGeneration>()> work = [ctx, run, window] {
    Result<BuiltGeneration> merged = MergeSegments(ctx, *run, *window);
    run->clear();  // the members' bytes and documents are done with
    ReleaseFreeMemory();
    return merged;
  };
  Result<BuiltGeneration> merged = co_await AwaitCompute<BuiltGeneration>(compute_, std::move(work));
  if (merged.ok() && merged->id != pm.id) {
    co_return Status::Internal("merged segment id " + merged->id + ", pending merge " + pm.id);
  }
  co_return merged;
}

}  // namespace freshet
