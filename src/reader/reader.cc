// Reader: an immutable View (CURRENT + opened generations + field kinds)
// behind a shared_ptr that Refresh swaps; Search and Get copy the pointer
// under a short lock and work on their copy without any lock held.
#include "freshet/reader.h"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>

#include "config/options.h"
#include "index/tokenizer.h"
#include "reader/opened_generation.h"
#include "reader/query_eval.h"
#include "reader/reader_internals.h"
#include "storage/store_uri.h"

namespace freshet {
namespace {

using Opened = std::shared_ptr<const OpenedGeneration>;

struct View {
  Generations generations;
  Opened full;                // null = empty segment
  std::vector<Opened> chain;  // oldest first; never null
  FieldKinds kinds;
};

Generations GenerationsOf(const CurrentPointer& c) { return Generations{c.full, c.delta, c.chain, c.watermark}; }

std::string Describe(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : "none"; }

// The field kinds recorded by the manifests (the delta's, then the
// full's); `fallback` for generations that predate those fields.
FieldKinds KindsFor(const View& v, const FieldKinds& fallback) {
  std::vector<const OpenedGeneration*> newest_first;
  for (auto it = v.chain.rbegin(); it != v.chain.rend(); ++it) newest_first.push_back(it->get());
  newest_first.push_back(v.full.get());
  for (const auto* g : newest_first) {
    if (g && (!g->manifest.text_fields.empty() || !g->manifest.keyword_fields.empty())) {
      return FieldKinds{g->manifest.text_fields, g->manifest.keyword_fields};
    }
  }
  return fallback;
}

}  // namespace

struct Reader::Impl {
  std::shared_ptr<ObjectStore> sink;
  ReaderOptions options;
  FieldKinds fallback_kinds;

  std::mutex refresh_mu;  // serializes Refresh
  mutable std::mutex view_mu;
  std::shared_ptr<const View> view;  // guarded by view_mu; never null

  std::shared_ptr<const View> Snapshot() const {
    std::lock_guard<std::mutex> lock(view_mu);
    return view;
  }

  void Publish(std::shared_ptr<const View> v) {
    std::lock_guard<std::mutex> lock(view_mu);
    view = std::move(v);
  }

  Result<Opened> OpenOrReuse(const std::string& id, std::string_view kind, const View* old) {
    if (id.empty()) return Opened();
    if (old) {
      if (old->full && old->full->id == id) return old->full;
      for (const Opened& g : old->chain) {
        if (g->id == id) return g;
      }
    }
    SegmentReaderOptions so;
    so.block_cache_bytes = options.block_cache_bytes;
    return OpenGeneration(sink, id, kind, so);
  }

  // Opens what `current` names, reusing generations `old` already has open.
  Result<std::shared_ptr<const View>> Load(const CurrentPointer& current, const View* old) {
    auto v = std::make_shared<View>();
    v->generations = GenerationsOf(current);
    FRESHET_ASSIGN_OR_RETURN(v->full, OpenOrReuse(current.full, "full", old));
    for (const std::string& id : current.chain) {
      FRESHET_ASSIGN_OR_RETURN(Opened g, OpenOrReuse(id, "delta", old));
      // The overlay is only right when every segment shadows exactly the live full.
      if (g->manifest.base != current.full) {
        return Status::DataLoss("CURRENT names delta " + id + " built on base '" + g->manifest.base +
                                "', but the live full is '" + current.full + "'");
      }
      v->chain.push_back(std::move(g));
    }
    v->kinds = KindsFor(*v, fallback_kinds);
    return std::shared_ptr<const View>(std::move(v));
  }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> ReaderInternals::OpenOnStore(std::shared_ptr<ObjectStore> sink,
                                                             ReaderOptions options) {
  auto impl = std::make_unique<Reader::Impl>();
  impl->sink = std::move(sink);
  const SchemaOptions ads = DefaultAdsSchema();
  impl->fallback_kinds.text = options.text_fields.value_or(ads.text_fields);
  impl->fallback_kinds.keyword = options.keyword_fields.value_or(ads.keyword_fields);
  impl->options = std::move(options);

  Result<CurrentPointer> current = ReadCurrent(*impl->sink);
  if (!current.ok() && (current.status().code() != StatusCode::kNotFound || impl->options.require_current)) {
    return current.status();
  }
  FRESHET_ASSIGN_OR_RETURN(std::shared_ptr<const View> view,
                           impl->Load(current.ok() ? *current : CurrentPointer{}, nullptr));
  impl->view = std::move(view);
  return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

Result<std::unique_ptr<Reader>> Reader::Open(const std::string& sink_uri, ReaderOptions options) {
  Result<std::unique_ptr<ObjectStore>> store = OpenStore(sink_uri, options.s3);
  if (!store.ok()) return store.status();
  return ReaderInternals::OpenOnStore(std::shared_ptr<ObjectStore>(std::move(store).value()), std::move(options));
}

Status Reader::Refresh() {
  std::lock_guard<std::mutex> lock(impl_->refresh_mu);
  FRESHET_ASSIGN_OR_RETURN(CurrentPointer current, ReadCurrent(*impl_->sink));
  std::shared_ptr<const View> old = impl_->Snapshot();
  if (old->generations == GenerationsOf(current)) return Status::Ok();
  FRESHET_ASSIGN_OR_RETURN(std::shared_ptr<const View> next, impl_->Load(current, old.get()));
  impl_->Publish(std::move(next));
  return Status::Ok();
}

Generations Reader::generations() const { return impl_->Snapshot()->generations; }

Result<std::vector<std::string>> Reader::Search(const Query& query) const {
  std::shared_ptr<const View> v = impl_->Snapshot();
  FRESHET_ASSIGN_OR_RETURN(AnalyzedQuery analyzed, AnalyzeQuery(query, v->kinds));

  // Layers newest first: each one's live matches that no newer layer
  // holds (live or tombstone). Every layer's matches ascend by id (docs are
  // numbered in id order) and the layers' contributions are disjoint.
  std::vector<const SegmentReader*> layers;
  for (auto it = v->chain.rbegin(); it != v->chain.rend(); ++it) layers.push_back((*it)->segment.get());
  if (v->full) layers.push_back(v->full->segment.get());
  std::vector<std::string> out;
  for (size_t i = 0; i < layers.size(); ++i) {
    const SegmentReader& layer = *layers[i];
    FRESHET_ASSIGN_OR_RETURN(std::vector<uint32_t> docs, MatchDocs(layer, analyzed));
    std::vector<std::string> mine;
    for (uint32_t doc : docs) {
      FRESHET_ASSIGN_OR_RETURN(bool tombstone, layer.IsTombstone(doc));
      if (tombstone) continue;
      FRESHET_ASSIGN_OR_RETURN(std::string id, layer.DocId(doc));
      bool shadowed = false;
      for (size_t j = 0; j < i && !shadowed; ++j) {
        FRESHET_ASSIGN_OR_RETURN(std::optional<uint32_t> newer, layers[j]->FindDoc(id));
        shadowed = newer.has_value();
      }
      if (!shadowed) mine.push_back(std::move(id));
    }
    std::vector<std::string> merged;
    merged.reserve(out.size() + mine.size());
    std::set_union(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()),
                   std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()),
                   std::back_inserter(merged));
    out = std::move(merged);
  }
  return out;
}

Result<std::optional<std::string>> Reader::Get(std::string_view id) const {
  std::shared_ptr<const View> v = impl_->Snapshot();
  std::vector<const OpenedGeneration*> newest_first;
  for (auto it = v->chain.rbegin(); it != v->chain.rend(); ++it) newest_first.push_back(it->get());
  if (v->full) newest_first.push_back(v->full.get());
  for (const auto* g : newest_first) {
    FRESHET_ASSIGN_OR_RETURN(std::optional<uint32_t> doc, g->segment->FindDoc(id));
    if (!doc) continue;
    FRESHET_ASSIGN_OR_RETURN(bool tombstone, g->segment->IsTombstone(*doc));
    if (tombstone) return std::optional<std::string>();
    FRESHET_ASSIGN_OR_RETURN(std::string stored, g->segment->Stored(*doc));
    return std::optional<std::string>(std::move(stored));
  }
  return std::optional<std::string>();
}

Status Reader::WaitForWatermark(TimePoint t, std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  poll = std::max(poll, std::chrono::milliseconds(1));
  Status last_error;
  for (;;) {
    Status st = Refresh();
    if (!st.ok()) {
      const StatusCode c = st.code();
      if (c != StatusCode::kNotFound && c != StatusCode::kUnavailable && c != StatusCode::kDeadlineExceeded) {
        return st;
      }
      last_error = st;
    }
    const Generations g = generations();
    if (g.watermark && *g.watermark >= t) return Status::Ok();
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      std::string msg = "no delta covering " + FormatRfc3339(t) + " was published within " +
                        FormatDuration(timeout) + " (watermark " + Describe(g.watermark) + ")";
      if (!last_error.ok()) msg += "; last refresh error: " + last_error.ToString();
      return Status::DeadlineExceeded(std::move(msg));
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(poll, deadline - now));
  }
}

Result<Query> ParseQuery(const std::vector<std::string>& args, bool any) {
  if (args.empty()) return Status::InvalidArgument("empty query: give at least one clause (word or field:value)");
  Query q;
  q.any = any;
  for (const std::string& arg : args) {
    if (arg.empty()) return Status::InvalidArgument("empty query clause");
    if (!IsValidUtf8(arg)) return Status::InvalidArgument("query clause is not valid UTF-8: '" + arg + "'");
    const size_t colon = arg.find(':');
    QueryClause c;
    if (colon == std::string::npos) {
      c.value = arg;
      Result<std::vector<std::string>> tokens = Tokenize(arg);
      if (!tokens.ok()) return tokens.status().WithContext("query clause '" + arg + "'");
      if (tokens->empty()) {
        return Status::InvalidArgument("query word '" + arg + "' has no letters or digits to match");
      }
    } else {
      c.field = arg.substr(0, colon);
      c.value = arg.substr(colon + 1);
      if (c.field.empty()) return Status::InvalidArgument("query clause '" + arg + "': empty field name");
      if (c.value.empty()) return Status::InvalidArgument("query clause '" + arg + "': empty value");
    }
    q.clauses.push_back(std::move(c));
  }
  return q;
}

}  // namespace freshet
