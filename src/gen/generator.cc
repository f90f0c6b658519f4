#include "gen/generator.h"

#include <lz4frame.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "gen/json_line_writer.h"
#include "gen/malformed_lines.h"
#include "gen/seeded_random.h"
#include "gen/vocabulary.h"
#include "plan/partition_layout.h"
#include "storage/blocking_store.h"

namespace freshet {
namespace {

using gen::JsonLineWriter;
using gen::MixSeed;
using gen::SeededRandom;

// Stream names mixed into seeds, so each use of randomness is independent
// of the others. Part of the output format: never renumber.
enum Salt : uint64_t {
  kSaltPopulation = 1,
  kSaltContent = 2,
  kSaltAdvertiser = 3,
  kSaltPartition = 4,
  kSaltPartitionObjects = 5,
  kSaltSnapshot = 6,
  kSaltSnapshotObject = 7,
  kSaltReservoir = 8,
  kSaltNewEntity = 9,
  kSaltSnapshotOrder = 10,
};

enum Level : uint8_t { kCampaign = 0, kAdGroup = 1, kAd = 2 };
constexpr char kLevelLetter[] = {'c', 'g', 'a'};

// Ids are a letter and 8 digits; numbering starts at 1 ("x"/0 are reserved
// for malformed lines).
constexpr uint64_t kMaxEntitiesPerLevel = 99'999'999;
constexpr uint64_t kMaxInitialPerLevel = 50'000'000;  // headroom for growth
constexpr int64_t kInitialAgeMs = 30LL * 24 * 3600 * 1000;
// How many earlier record lines are kept as candidates for duplicates.
constexpr size_t kDuplicateReservoir = 256;

constexpr std::string_view kCountries[] = {"US", "DE", "FR", "JP", "BR", "IN", "GB", "CA", "ES",
                                           "IT", "KR", "MX", "NL", "SE", "PL", "TR", "GR", "EG"};
constexpr std::string_view kTlds[] = {"com", "de", "fr", "co.jp", "com.br", "in", "co.uk", "shop", "net"};
constexpr std::string_view kCompanySuffixes[] = {" Inc.", " GmbH", " SA", " Ltd", " AG", " & Co.",
                                                 " 株式会社", " S.p.A.", " BV", ""};

// Update event kinds and their relative weights (per mille-ish). The mix
// keeps the population slowly growing: more ads created than deleted.
enum class Event : uint8_t {
  kAdEdit, kAdStatus, kAdDelete, kAdCreate,
  kGroupStatus, kGroupEdit, kGroupDelete, kGroupCreate,
  kCampaignStatus, kCampaignEdit, kCampaignDelete, kCampaignCreate,
};
struct EventWeight {
  Event event;
  uint32_t weight;
};
constexpr EventWeight kHierarchyEvents[] = {
    {Event::kAdEdit, 400},        {Event::kAdStatus, 120},       {Event::kAdDelete, 50},
    {Event::kAdCreate, 140},      {Event::kGroupStatus, 50},     {Event::kGroupEdit, 40},
    {Event::kGroupDelete, 6},     {Event::kGroupCreate, 12},     {Event::kCampaignStatus, 25},
    {Event::kCampaignEdit, 10},   {Event::kCampaignDelete, 2},   {Event::kCampaignCreate, 3},
};
constexpr EventWeight kFlatEvents[] = {
    {Event::kAdEdit, 700}, {Event::kAdDelete, 80}, {Event::kAdCreate, 220}};

template <size_t N>
Event PickEvent(const EventWeight (&table)[N], SeededRandom& rng) {
  uint64_t total = 0;
  for (const auto& e : table) total += e.weight;
  uint64_t roll = rng.Below(total);
  for (const auto& e : table) {
    if (roll < e.weight) return e.event;
    roll -= e.weight;
  }
  return table[0].event;
}

size_t PickCountry(SeededRandom& rng) {
  // Zipf-like: the US most, Egypt least.
  static const std::vector<double> cdf = [] {
    std::vector<double> c;
    double sum = 0;
    for (size_t i = 0; i < std::size(kCountries); ++i) c.push_back(sum += 1.0 / static_cast<double>(i + 1));
    return c;
  }();
  double u = rng.Unit() * cdf.back();
  size_t i = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
  return std::min(i, cdf.size() - 1);
}

std::string EntityId(Level level, uint32_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%08u", kLevelLetter[level], index + 1);
  return buf;
}

bool InUnitRange(double x) { return x >= 0.0 && x <= 1.0; }  // false for NaN

Result<std::string> CompressLz4Frame(std::string_view data) {
  // Fixed preferences (everything explicit, no auto-detection) so that the
  // same input always gives the same frame bytes.
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max256KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  prefs.frameInfo.frameType = LZ4F_frame;
  prefs.frameInfo.contentSize = data.size();
  prefs.compressionLevel = 1;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n)) return Status::Internal(std::string("LZ4F_compressFrame: ") + LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// State

struct GenState::Impl {
  struct Entity {
    int64_t version = 0;
    uint32_t parent = 0;  // parent index; flat: campaign index for campaign_id
    uint32_t rev = 0;     // content revision: text is a function of (seed, level, index, rev)
    uint8_t country = 0;  // campaigns and flat ads
    bool paused = false;
    bool deleted = false;
  };

  Impl(const GenOptions& o, PartitionLayout l)
      : seed(o.seed), flat(o.flat), layout(std::move(l)), vocab(o.vocabulary_size, o.zipf_exponent) {}

  uint64_t seed;
  bool flat;
  PartitionLayout layout;
  gen::Vocabulary vocab;
  uint32_t campaign_pool = 1;     // flat: campaign_id values c00000001..
  uint32_t groups_per_new_campaign = 1;
  uint32_t ads_per_new_group = 1;

  std::vector<Entity> entities[3];
  std::vector<std::vector<uint32_t>> children[2];  // campaign -> groups, group -> ads
  uint64_t live[3] = {0, 0, 0};

  std::optional<TimePoint> last_partition;
  int64_t max_version = 0;
  uint64_t bad_serial = 0;
  // Earlier well-formed lines (without '\n'): the source of duplicates.
  std::vector<std::string> recent_lines;

  // --- records ------------------------------------------------------------

  void AppendRecord(Level level, uint32_t index, bool escape, std::string* out) const {
    const Entity& e = entities[level][index];
    SeededRandom rng(MixSeed({seed, kSaltContent, level, index, e.rev}));
    JsonLineWriter w(out, escape);
    w.Begin();
    if (!flat) {
      static constexpr std::string_view kTypes[] = {"campaign", "ad_group", "ad"};
      w.String("type", kTypes[level]);
    }
    w.String("id", EntityId(level, index));
    if (!flat && level == kAdGroup) w.String("campaign_id", EntityId(kCampaign, e.parent));
    if (!flat && level == kAd) w.String("ad_group_id", EntityId(kAdGroup, e.parent));
    w.Int("version", e.version);
    if (!flat) w.String("status", e.paused ? "PAUSED" : "ACTIVE");
    w.Bool("deleted", e.deleted);
    switch (level) {
      case kCampaign: {
        w.String("campaign_name", vocab.Text(rng, 2, 5, /*title=*/true));
        // The advertiser never changes with edits: its own stream.
        SeededRandom adv(MixSeed({seed, kSaltAdvertiser, index}));
        std::string name(vocab.SampleAscii(adv));
        name[0] = static_cast<char>(name[0] - 'a' + 'A');
        if (adv.Chance(0.3)) {
          name += ' ';
          name += vocab.Sample(adv);
        }
        name += kCompanySuffixes[adv.Below(std::size(kCompanySuffixes))];
        w.String("advertiser", name);
        w.String("country", kCountries[e.country]);
        break;
      }
      case kAdGroup:
        w.String("ad_group_name", vocab.Text(rng, 2, 4, /*title=*/true));
        w.Int("bid_micros", 10000 * rng.Between(5, 500));
        break;
      case kAd: {
        w.String("title", vocab.Text(rng, 3, 9, /*title=*/true));
        w.String("description", vocab.Text(rng, 15, 40, /*title=*/false));
        std::string url = "https://www.";
        url += vocab.SampleAscii(rng);
        if (rng.Chance(0.4)) {
          url += '-';
          url += vocab.SampleAscii(rng);
        }
        url += '.';
        url += kTlds[rng.Below(std::size(kTlds))];
        url += '/';
        url += vocab.SampleAscii(rng);
        url += '/';
        url += vocab.SampleAscii(rng);
        url += "?ad=";
        url += EntityId(kAd, index);
        w.String("url", url);
        if (flat) {
          w.String("country", kCountries[e.country]);
          w.String("campaign_id", EntityId(kCampaign, e.parent));
        }
        std::vector<std::string> keywords(static_cast<size_t>(rng.Between(2, 6)));
        for (auto& k : keywords) k = vocab.Keyword(rng, 2);
        w.StringArray("keywords", keywords);
        break;
      }
    }
    w.End();
  }

  // --- entity changes -----------------------------------------------------

  void Touch(Entity& e, int64_t now) {
    // Strictly increasing per entity even for two updates in one millisecond.
    e.version = std::max(e.version + 1, now);
    max_version = std::max(max_version, e.version);
  }

  bool Full(Level level) const { return entities[level].size() >= kMaxEntitiesPerLevel; }

  uint32_t Add(Level level, uint32_t parent, int64_t version, SeededRandom& rng, double paused_share) {
    Entity e;
    e.version = version;
    e.parent = parent;
    e.paused = rng.Chance(paused_share);
    if (level == kCampaign || flat) e.country = static_cast<uint8_t>(PickCountry(rng));
    auto index = static_cast<uint32_t>(entities[level].size());
    entities[level].push_back(e);
    ++live[level];
    max_version = std::max(max_version, version);
    if (!flat) {
      if (level != kAd) children[level].emplace_back();
      if (level != kCampaign) children[level - 1][parent].push_back(index);
    }
    return index;
  }

  // A uniformly chosen live entity, or nullopt when there is none.
  std::optional<uint32_t> PickLive(Level level, SeededRandom& rng) const {
    const auto& v = entities[level];
    if (live[level] == 0) return std::nullopt;
    for (int tries = 0; tries < 32; ++tries) {
      auto i = static_cast<uint32_t>(rng.Below(v.size()));
      if (!v[i].deleted) return i;
    }
    // Mostly deleted: scan from a random point (still deterministic).
    size_t start = rng.Below(v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      size_t i = (start + k) % v.size();
      if (!v[i].deleted) return static_cast<uint32_t>(i);
    }
    return std::nullopt;
  }
};

GenState::GenState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GenState::GenState(GenState&&) noexcept = default;
GenState& GenState::operator=(GenState&&) noexcept = default;
GenState::~GenState() = default;

std::optional<TimePoint> GenState::last_partition() const { return impl_->last_partition; }
uint64_t GenState::live_campaigns() const { return impl_->live[kCampaign]; }
uint64_t GenState::live_ad_groups() const { return impl_->live[kAdGroup]; }
uint64_t GenState::live_ads() const { return impl_->live[kAd]; }

TimePoint GenState::min_snapshot_time() const {
  // The first interval boundary strictly after every version written.
  return impl_->layout.Floor(FromUnixMillis(impl_->max_version)) + impl_->layout.interval();
}

// ---------------------------------------------------------------------------
// Options

uint64_t InitialAdCount(const GenOptions& o) {
  if (o.total_ads > 0) return o.total_ads;
  uint64_t per_campaign = o.flat ? 1 : o.ad_groups_per_campaign;
  return uint64_t{o.campaigns} * per_campaign * o.ads_per_ad_group;
}

Status ValidateGenOptions(const GenOptions& o) {
  auto bad = [](std::string field, std::string problem) {
    return Status::InvalidArgument("gen option " + field + ": " + problem);
  };
  if (o.campaigns < 1) return bad("campaigns", "must be at least 1");
  if (!o.flat && o.ad_groups_per_campaign < 1) return bad("ad_groups_per_campaign", "must be at least 1");
  if (o.total_ads == 0 && o.ads_per_ad_group < 1) return bad("ads_per_ad_group", "must be at least 1");
  if (o.campaigns > kMaxInitialPerLevel) return bad("campaigns", "at most 50000000");
  if (!o.flat && uint64_t{o.campaigns} * o.ad_groups_per_campaign > kMaxInitialPerLevel) {
    return bad("ad_groups_per_campaign", "campaigns x ad groups exceeds 50000000");
  }
  if (InitialAdCount(o) > kMaxInitialPerLevel) return bad("total_ads", "more than 50000000 ads");
  if (o.interval.count() <= 0) return bad("interval", "must be positive");
  if (o.span.count() < 0) return bad("span", "must not be negative");
  auto layout = PartitionLayout::Create(o.layout, o.interval);
  if (!layout.ok()) return layout.status().WithContext("gen option layout");
  for (const auto& [name, prefix] : {std::pair<const char*, const std::string&>{"updates_prefix", o.updates_prefix},
                                     {"snapshots_prefix", o.snapshots_prefix}}) {
    if (!prefix.empty() && (prefix.back() != '/' || prefix.front() == '/')) {
      return bad(name, "must be empty or a relative prefix ending with '/': \"" + prefix + "\"");
    }
  }
  // Overlapping prefixes would make a listing of updates include snapshots.
  if (std::string_view(o.updates_prefix).starts_with(o.snapshots_prefix) ||
      std::string_view(o.snapshots_prefix).starts_with(o.updates_prefix)) {
    return bad("snapshots_prefix", "must not overlap updates_prefix (neither may start with the other)");
  }
  if (o.objects_per_partition < 1 || o.objects_per_partition > 99999) {
    return bad("objects_per_partition", "must be in 1..99999");
  }
  if (o.snapshot_lines_per_object < 1) return bad("snapshot_lines_per_object", "must be at least 1");
  for (const auto& [name, share] : {std::pair<const char*, double>{"lz4_share", o.lz4_share},
                                    {"bad_line_share", o.bad_line_share},
                                    {"duplicate_share", o.duplicate_share},
                                    {"empty_object_share", o.empty_object_share},
                                    {"success_marker_share", o.success_marker_share},
                                    {"escaped_unicode_share", o.escaped_unicode_share}}) {
    if (!InUnitRange(share)) return bad(name, "must be in [0, 1]");
  }
  if (o.bad_line_share >= 1.0) return bad("bad_line_share", "must be below 1");
  if (o.vocabulary_size < 1 || o.vocabulary_size > 10'000'000) return bad("vocabulary_size", "must be in 1..10000000");
  if (!(o.zipf_exponent > 0.0 && o.zipf_exponent <= 10.0)) return bad("zipf_exponent", "must be in (0, 10]");
  return Status::Ok();
}

Result<GenState> GenState::Create(const GenOptions& o) {
  FRESHET_RETURN_IF_ERROR(ValidateGenOptions(o));
  FRESHET_ASSIGN_OR_RETURN(PartitionLayout layout, PartitionLayout::Create(o.layout, o.interval));
  int64_t start = ToUnixMillis(layout.Floor(o.start));
  auto impl = std::make_unique<Impl>(o, std::move(layout));
  Impl& s = *impl;
  SeededRandom rng(MixSeed({o.seed, kSaltPopulation}));
  auto initial_version = [&] { return start - rng.Between(1, kInitialAgeMs); };

  uint64_t ads = InitialAdCount(o);
  if (o.flat) {
    s.campaign_pool = o.campaigns;
    s.entities[kAd].reserve(ads);
    for (uint64_t i = 0; i < ads; ++i) {
      auto campaign = static_cast<uint32_t>(rng.Below(o.campaigns));
      s.Add(kAd, campaign, initial_version(), rng, 0.0);
    }
  } else {
    uint64_t groups = uint64_t{o.campaigns} * o.ad_groups_per_campaign;
    s.groups_per_new_campaign = o.ad_groups_per_campaign;
    s.ads_per_new_group = static_cast<uint32_t>(std::max<uint64_t>(1, ads / groups));
    s.entities[kAd].reserve(ads);
    uint64_t group_number = 0;
    for (uint32_t c = 0; c < o.campaigns; ++c) {
      uint32_t campaign = s.Add(kCampaign, 0, initial_version(), rng, 0.10);
      for (uint32_t g = 0; g < o.ad_groups_per_campaign; ++g, ++group_number) {
        uint32_t group = s.Add(kAdGroup, campaign, initial_version(), rng, 0.08);
        uint64_t n = ads / groups + (group_number < ads % groups ? 1 : 0);
        for (uint64_t a = 0; a < n; ++a) s.Add(kAd, group, initial_version(), rng, 0.08);
      }
    }
  }
  return GenState(std::move(impl));
}

// ---------------------------------------------------------------------------
// Writing objects

namespace {

void Count(GenSummary* summary, const std::string& key, uint64_t bytes) {
  if (!summary) return;
  ++summary->objects;
  summary->bytes += bytes;
  summary->keys.push_back(key);
}

// Stores `body` under `<folder_key>part-NNNNN.ndjson`, LZ4-framed (and
// named .ndjson.lz4) when `lz4`. An empty body is stored as is: an empty
// object, which readers skip. A null store discards (replay).
Status PutPart(ObjectStore* store, const std::string& folder_key, uint32_t index, std::string body, bool lz4,
               GenSummary* summary) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05u.ndjson", index);
  if (!store) return Status::Ok();
  std::string key = folder_key + name;
  if (lz4 && !body.empty()) {
    FRESHET_ASSIGN_OR_RETURN(body, CompressLz4Frame(body));
    key += ".lz4";
  }
  uint64_t size = body.size();
  auto put = PutSync(*store, key, std::move(body));
  if (!put.ok()) return put.status().WithContext("gen: put " + key);
  Count(summary, key, size);
  return Status::Ok();
}

Status PutMarker(ObjectStore* store, const std::string& key, GenSummary* summary) {
  if (!store) return Status::Ok();
  auto put = PutSync(*store, key, std::string());
  if (!put.ok()) return put.status().WithContext("gen: put " + key);
  Count(summary, key, 0);
  return Status::Ok();
}

// Collects one batch's well-formed lines by reservoir sampling; the sample
// becomes the duplicate candidates of the next partition.
class LineReservoir {
 public:
  explicit LineReservoir(uint64_t seed) : rng_(seed) {}
  void Offer(std::string_view line) {
    ++seen_;
    if (lines_.size() < kDuplicateReservoir) {
      lines_.emplace_back(line);
    } else if (uint64_t j = rng_.Below(seen_); j < kDuplicateReservoir) {
      lines_[j].assign(line);
    }
  }
  std::vector<std::string> Take() && { return std::move(lines_); }

 private:
  SeededRandom rng_;
  uint64_t seen_ = 0;
  std::vector<std::string> lines_;
};

// Appends well-formed lines to a body and, at the configured share,
// malformed lines after them.
class LineAppender {
 public:
  LineAppender(GenState::Impl& state, const GenOptions& options, SeededRandom& rng, LineReservoir& reservoir,
               GenSummary* summary)
      : state_(state),
        options_(options),
        rng_(rng),
        reservoir_(reservoir),
        summary_(summary),
        // bad / (good + bad) = share  <=>  bad per good = share / (1 - share)
        bad_per_good_(options.bad_line_share / (1.0 - options.bad_line_share)) {}

  // Returns the number of lines appended (1 or 2).
  int AppendRecord(Level level, uint32_t index, std::string* body) {
    size_t begin = body->size();
    state_.AppendRecord(level, index, rng_.Chance(options_.escaped_unicode_share), body);
    std::string_view line(body->data() + begin, body->size() - begin - 1);
    reservoir_.Offer(line);
    if (summary_) ++summary_->records;
    return 1 + MaybeAppendBad(line, body);
  }

  int AppendDuplicate(std::string_view line, std::string* body) {
    body->append(line);
    body->push_back('\n');
    if (summary_) {
      ++summary_->records;
      ++summary_->duplicates;
    }
    return 1 + MaybeAppendBad(line, body);
  }

 private:
  int MaybeAppendBad(std::string_view good_line, std::string* body) {
    if (bad_per_good_ <= 0 || !rng_.Chance(bad_per_good_)) return 0;
    // `good_line` may point into *body: copy before appending.
    std::string good(good_line);
    gen::AppendMalformedLine(rng_, good, ++state_.bad_serial, state_.flat, state_.max_version, body);
    if (summary_) ++summary_->bad_lines;
    return 1;
  }

  GenState::Impl& state_;
  const GenOptions& options_;
  SeededRandom& rng_;
  LineReservoir& reservoir_;
  GenSummary* summary_;
  double bad_per_good_;
};

Status CheckSameShape(const GenOptions& o, const GenState::Impl& s) {
  if (o.layout != s.layout.pattern() || o.interval != s.layout.interval() || o.seed != s.seed ||
      o.flat != s.flat) {
    return Status::InvalidArgument("gen: options differ from the ones the GenState was created with "
                                   "(seed, flat, layout and interval must not change)");
  }
  return ValidateGenOptions(o);
}

}  // namespace

// The one way into GenState's internals (a friend of GenState).
struct GenStateAccess {
  static GenState::Impl& impl(GenState& state) { return *state.impl_; }
};

namespace {

// WriteSnapshot and ReplaySnapshot; a null store writes nothing.
Status Snapshot(const GenOptions& o, GenState& state, TimePoint snapshot_time, ObjectStore* store,
                GenSummary* summary) {
  GenState::Impl& s = GenStateAccess::impl(state);
  FRESHET_RETURN_IF_ERROR(CheckSameShape(o, s));
  if (s.layout.Floor(snapshot_time) != snapshot_time) {
    return Status::InvalidArgument("gen: snapshot time " + FormatRfc3339(snapshot_time) +
                                   " is not aligned to the partition interval");
  }
  if (snapshot_time < state.min_snapshot_time()) {
    return Status::InvalidArgument("gen: snapshot time " + FormatRfc3339(snapshot_time) +
                                   " is before versions already written; the earliest is " +
                                   FormatRfc3339(state.min_snapshot_time()));
  }
  const int64_t t = ToUnixMillis(snapshot_time);
  const std::string folder_key = o.snapshots_prefix + s.layout.Format(snapshot_time);
  SeededRandom rng(MixSeed({s.seed, kSaltSnapshot, static_cast<uint64_t>(t)}));
  LineReservoir reservoir(MixSeed({s.seed, kSaltReservoir, static_cast<uint64_t>(t)}));
  LineAppender appender(s, o, rng, reservoir, summary);

  std::string body;
  uint64_t lines_in_body = 0;
  uint32_t part = 0;
  auto flush = [&]() -> Status {
    SeededRandom object_rng(MixSeed({s.seed, kSaltSnapshotObject, static_cast<uint64_t>(t), part}));
    const size_t previous_size = body.size();
    Status st = PutPart(store, folder_key, part, std::move(body), object_rng.Chance(o.lz4_share), summary);
    ++part;
    // Reserve what the previous object needed, so 30 MB bodies are not
    // grown (and copied) by doubling.
    body = std::string();
    body.reserve(previous_size + previous_size / 16);
    lines_in_body = 0;
    return st;
  };
  auto emit = [&](Level level, uint32_t index) -> Status {
    lines_in_body += static_cast<uint64_t>(appender.AppendRecord(level, index, &body));
    if (lines_in_body >= o.snapshot_lines_per_object) return flush();
    return Status::Ok();
  };

  if (s.flat) {
    std::vector<uint32_t> order(s.entities[kAd].size());
    for (uint32_t a = 0; a < order.size(); ++a) order[a] = a;
    if (o.shuffle_snapshot) {
      // Fisher-Yates on a stream of its own: nothing else moves.
      SeededRandom order_rng(MixSeed({s.seed, kSaltSnapshotOrder, static_cast<uint64_t>(t)}));
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[order_rng.Below(i)]);
    }
    for (uint32_t a : order) {
      if (!s.entities[kAd][a].deleted) FRESHET_RETURN_IF_ERROR(emit(kAd, a));
    }
  } else {
    // Depth first (campaign, its ad groups, each one's ads): all levels mix
    // in the same objects, parents usually before children.
    for (uint32_t c = 0; c < s.entities[kCampaign].size(); ++c) {
      if (s.entities[kCampaign][c].deleted) continue;
      FRESHET_RETURN_IF_ERROR(emit(kCampaign, c));
      for (uint32_t g : s.children[kCampaign][c]) {
        if (s.entities[kAdGroup][g].deleted) continue;
        FRESHET_RETURN_IF_ERROR(emit(kAdGroup, g));
        for (uint32_t a : s.children[kAdGroup][g]) {
          if (!s.entities[kAd][a].deleted) FRESHET_RETURN_IF_ERROR(emit(kAd, a));
        }
      }
    }
  }
  if (lines_in_body > 0 || part == 0) FRESHET_RETURN_IF_ERROR(flush());
  if (rng.Chance(o.success_marker_share)) FRESHET_RETURN_IF_ERROR(PutMarker(store, folder_key + "_SUCCESS", summary));
  s.recent_lines = std::move(reservoir).Take();
  if (summary) ++summary->snapshots;
  return Status::Ok();
}

// GeneratePartition and ReplayPartition; a null store writes nothing.
Status Partition(const GenOptions& o, GenState& state, TimePoint partition_time, ObjectStore* store,
                 GenSummary* summary) {
  GenState::Impl& s = GenStateAccess::impl(state);
  FRESHET_RETURN_IF_ERROR(CheckSameShape(o, s));
  if (s.layout.Floor(partition_time) != partition_time) {
    return Status::InvalidArgument("gen: partition time " + FormatRfc3339(partition_time) +
                                   " is not aligned to the partition interval");
  }
  if (s.last_partition && partition_time <= *s.last_partition) {
    return Status::InvalidArgument("gen: partition " + FormatRfc3339(partition_time) +
                                   " is not after the last one written, " + FormatRfc3339(*s.last_partition));
  }
  s.last_partition = partition_time;

  const int64_t t = ToUnixMillis(partition_time);
  const auto ut = static_cast<uint64_t>(t);
  const std::string folder_key = o.updates_prefix + s.layout.Format(partition_time);
  SeededRandom rng(MixSeed({s.seed, kSaltPartition, ut}));
  SeededRandom object_rng(MixSeed({s.seed, kSaltPartitionObjects, ut}));
  LineReservoir reservoir(MixSeed({s.seed, kSaltReservoir, ut}));
  LineAppender appender(s, o, rng, reservoir, summary);
  std::vector<std::string> bodies(o.objects_per_partition);

  // Event times: sorted offsets inside the interval, so each object's
  // records are in time order, like a producer's output files.
  std::vector<int64_t> times(o.updates_per_partition);
  for (auto& x : times) x = t + rng.Between(0, s.layout.interval().count() - 1);
  std::sort(times.begin(), times.end());

  auto emit = [&](Level level, uint32_t index) {
    appender.AppendRecord(level, index, &bodies[object_rng.Below(bodies.size())]);
  };
  auto change = [&](Level level, uint32_t index, int64_t now) {
    s.Touch(s.entities[level][index], now);
    emit(level, index);
  };
  auto remove = [&](Level level, uint32_t index, int64_t now) {
    auto& e = s.entities[level][index];
    e.deleted = true;
    --s.live[level];
    change(level, index, now);
  };
  // Deletes cascade so that no live entity has a deleted parent; parents
  // are written before their children.
  auto delete_group = [&](uint32_t g, int64_t now) {
    remove(kAdGroup, g, now);
    for (uint32_t a : s.children[kAdGroup][g]) {
      if (!s.entities[kAd][a].deleted) remove(kAd, a, now);
    }
  };
  auto delete_campaign = [&](uint32_t c, int64_t now) {
    remove(kCampaign, c, now);
    for (uint32_t g : s.children[kCampaign][c]) {
      if (!s.entities[kAdGroup][g].deleted) delete_group(g, now);
    }
  };
  auto create_ad = [&](uint32_t parent, int64_t now) {
    if (s.Full(kAd)) return;
    SeededRandom create_rng(MixSeed({s.seed, kSaltNewEntity, kAd, s.entities[kAd].size()}));
    emit(kAd, s.Add(kAd, parent, now, create_rng, 0.0));
  };
  auto create_group = [&](uint32_t campaign, int64_t now) {
    if (s.Full(kAdGroup)) return;
    SeededRandom create_rng(MixSeed({s.seed, kSaltNewEntity, kAdGroup, s.entities[kAdGroup].size()}));
    uint32_t g = s.Add(kAdGroup, campaign, now, create_rng, 0.0);
    emit(kAdGroup, g);
    auto n = create_rng.Between(1, s.ads_per_new_group);
    for (int64_t i = 0; i < n; ++i) create_ad(g, now);
  };
  auto create_campaign = [&](int64_t now) {
    if (s.Full(kCampaign)) return;
    SeededRandom create_rng(MixSeed({s.seed, kSaltNewEntity, kCampaign, s.entities[kCampaign].size()}));
    uint32_t c = s.Add(kCampaign, 0, now, create_rng, 0.0);
    emit(kCampaign, c);
    auto n = create_rng.Between(1, s.groups_per_new_campaign);
    for (int64_t i = 0; i < n; ++i) create_group(c, now);
  };

  // Duplicates come from the previous batch only, so they always cross a
  // partition (or snapshot) boundary.
  const std::vector<std::string> previous = std::move(s.recent_lines);
  s.recent_lines.clear();

  for (int64_t now : times) {
    if (!previous.empty() && rng.Chance(o.duplicate_share)) {
      appender.AppendDuplicate(previous[rng.Below(previous.size())], &bodies[object_rng.Below(bodies.size())]);
      continue;
    }
    Event event = s.flat ? PickEvent(kFlatEvents, rng) : PickEvent(kHierarchyEvents, rng);
    switch (event) {
      case Event::kAdEdit:
      case Event::kAdStatus:
      case Event::kAdDelete: {
        auto a = s.PickLive(kAd, rng);
        if (!a) break;
        if (event == Event::kAdDelete) {
          remove(kAd, *a, now);
        } else {
          auto& e = s.entities[kAd][*a];
          if (event == Event::kAdEdit) ++e.rev; else e.paused = !e.paused;
          change(kAd, *a, now);
        }
        break;
      }
      case Event::kAdCreate:
        if (s.flat) {
          if (!s.Full(kAd)) {
            SeededRandom create_rng(MixSeed({s.seed, kSaltNewEntity, kAd, s.entities[kAd].size()}));
            emit(kAd, s.Add(kAd, static_cast<uint32_t>(create_rng.Below(s.campaign_pool)), now, create_rng, 0.0));
          }
        } else if (auto g = s.PickLive(kAdGroup, rng)) {
          create_ad(*g, now);
        } else {
          create_campaign(now);
        }
        break;
      case Event::kGroupStatus:
      case Event::kGroupEdit:
      case Event::kGroupDelete: {
        auto g = s.PickLive(kAdGroup, rng);
        if (!g) break;
        if (event == Event::kGroupDelete) {
          delete_group(*g, now);
        } else {
          auto& e = s.entities[kAdGroup][*g];
          if (event == Event::kGroupEdit) ++e.rev; else e.paused = !e.paused;
          change(kAdGroup, *g, now);
        }
        break;
      }
      case Event::kGroupCreate:
        if (auto c = s.PickLive(kCampaign, rng)) {
          create_group(*c, now);
        } else {
          create_campaign(now);
        }
        break;
      case Event::kCampaignStatus:
      case Event::kCampaignEdit:
      case Event::kCampaignDelete: {
        auto c = s.PickLive(kCampaign, rng);
        if (!c) break;
        if (event == Event::kCampaignDelete) {
          delete_campaign(*c, now);
        } else {
          auto& e = s.entities[kCampaign][*c];
          if (event == Event::kCampaignEdit) ++e.rev; else e.paused = !e.paused;
          change(kCampaign, *c, now);
        }
        break;
      }
      case Event::kCampaignCreate:
        create_campaign(now);
        break;
    }
  }
  s.recent_lines = std::move(reservoir).Take();

  for (uint32_t k = 0; k < bodies.size(); ++k) {
    bool lz4 = object_rng.Chance(o.lz4_share);
    FRESHET_RETURN_IF_ERROR(PutPart(store, folder_key, k, std::move(bodies[k]), lz4, summary));
  }
  if (object_rng.Chance(o.empty_object_share)) {
    FRESHET_RETURN_IF_ERROR(PutPart(store, folder_key, o.objects_per_partition, std::string(), false, summary));
  }
  if (object_rng.Chance(o.success_marker_share)) {
    FRESHET_RETURN_IF_ERROR(PutMarker(store, folder_key + "_SUCCESS", summary));
  }
  if (summary) ++summary->partitions;
  return Status::Ok();
}

}  // namespace

Status WriteSnapshot(const GenOptions& options, GenState& state, TimePoint snapshot_time, ObjectStore& store,
                     GenSummary* summary) {
  return Snapshot(options, state, snapshot_time, &store, summary);
}

Status ReplaySnapshot(const GenOptions& options, GenState& state, TimePoint snapshot_time) {
  return Snapshot(options, state, snapshot_time, nullptr, nullptr);
}

Status GeneratePartition(const GenOptions& options, GenState& state, TimePoint partition_time, ObjectStore& store,
                         GenSummary* summary) {
  return Partition(options, state, partition_time, &store, summary);
}

Status ReplayPartition(const GenOptions& options, GenState& state, TimePoint partition_time) {
  return Partition(options, state, partition_time, nullptr, nullptr);
}

Status Generate(const GenOptions& o, ObjectStore& store, GenSummary* summary) {
  FRESHET_ASSIGN_OR_RETURN(GenState state, GenState::Create(o));
  FRESHET_ASSIGN_OR_RETURN(PartitionLayout layout, PartitionLayout::Create(o.layout, o.interval));
  const TimePoint start = layout.Floor(o.start);
  if (o.snapshot) FRESHET_RETURN_IF_ERROR(WriteSnapshot(o, state, start, store, summary));
  uint64_t partitions = o.partitions;
  if (o.span.count() > 0) partitions = static_cast<uint64_t>((o.span.count() + o.interval.count() - 1) / o.interval.count());
  for (uint64_t i = 0; i < partitions; ++i) {
    TimePoint t = start + o.interval * static_cast<int64_t>(i);
    FRESHET_RETURN_IF_ERROR(GeneratePartition(o, state, t, store, summary));
  }
  return Status::Ok();
}

}  // namespace freshet
