#include "gen/generator.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "gen/generated_input.h"
#include "plan/partition_layout.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

using gen_test::ParseRecord;
using gen_test::Record;

GenOptions SmallOptions() {
  GenOptions o;
  o.seed = 7;
  o.campaigns = 8;
  o.ad_groups_per_campaign = 3;
  o.ads_per_ad_group = 4;
  o.partitions = 6;
  o.updates_per_partition = 150;
  o.objects_per_partition = 3;
  o.snapshot_lines_per_object = 40;
  return o;
}

std::map<std::string, std::string> RawObjects(MemoryStore& store) {
  std::map<std::string, std::string> out;
  for (const auto& key : store.Keys()) {
    auto got = GetSync(store, key);
    EXPECT_TRUE(got.ok());
    if (got.ok()) out[key] = got->body;
  }
  return out;
}

// What a generated data set holds, read back from the store alone.
struct Dataset {
  struct Partition {
    std::vector<Record> records;
    int bad_lines = 0;
    std::vector<std::string> names;  // object names inside the folder
  };
  std::map<TimePoint, Partition> snapshots;
  std::map<TimePoint, Partition> updates;  // ascending partition time
  std::vector<std::string> unparsed_keys;
  uint64_t good = 0, bad = 0;
};

Dataset Read(MemoryStore& store, const GenOptions& o) {
  auto layout = PartitionLayout::Create(o.layout, o.interval);
  EXPECT_TRUE(layout.ok());
  Dataset d;
  for (const auto& [key, body] : gen_test::ReadAll(store)) {
    std::map<TimePoint, Dataset::Partition>* into = nullptr;
    std::string_view rel = key;
    if (rel.starts_with(o.updates_prefix)) {
      into = &d.updates;
      rel.remove_prefix(o.updates_prefix.size());
    } else if (rel.starts_with(o.snapshots_prefix)) {
      into = &d.snapshots;
      rel.remove_prefix(o.snapshots_prefix.size());
    }
    std::string_view name;
    auto t = into ? layout->ParseKey(rel, &name) : std::nullopt;
    if (!t) {
      d.unparsed_keys.push_back(key);
      continue;
    }
    auto& part = (*into)[*t];
    part.names.emplace_back(name);
    for (std::string_view line : gen_test::SplitLines(body)) {
      if (auto r = ParseRecord(line)) {
        part.records.push_back(std::move(*r));
        ++d.good;
      } else {
        ++part.bad_lines;
        ++d.bad;
      }
    }
  }
  return d;
}

// Newest record per id, applying `records` in order (newest version wins).
void Apply(std::map<std::string, Record>* latest, const std::vector<Record>& records) {
  for (const auto& r : records) {
    auto [it, inserted] = latest->emplace(r.id, r);
    if (!inserted && r.version > it->second.version) it->second = r;
  }
}

// ---------------------------------------------------------------------------

TEST(GeneratorTest, SameOptionsGiveIdenticalBytes) {
  GenOptions o = SmallOptions();
  o.lz4_share = 0.5;
  MemoryStore a, b;
  ASSERT_TRUE(Generate(o, a).ok());
  ASSERT_TRUE(Generate(o, b).ok());
  auto objects = RawObjects(a);
  EXPECT_GT(objects.size(), 10u);
  EXPECT_EQ(objects, RawObjects(b));
}

TEST(GeneratorTest, DifferentSeedGivesDifferentData) {
  GenOptions o = SmallOptions();
  MemoryStore a, b;
  ASSERT_TRUE(Generate(o, a).ok());
  o.seed = 8;
  ASSERT_TRUE(Generate(o, b).ok());
  auto oa = RawObjects(a), ob = RawObjects(b);
  int same = 0;
  for (const auto& [key, body] : oa) {
    if (!body.empty() && ob.count(key) && ob[key] == body) ++same;
  }
  EXPECT_EQ(same, 0);
}

TEST(GeneratorTest, KeysFollowTheLayout) {
  for (const char* pattern : {"%Y/%m/%d/%H/%M", "dt=%Y-%m-%d/hr=%H/min=%M"}) {
    GenOptions o = SmallOptions();
    o.layout = pattern;
    o.start = FromUnixMillis(1764000000000 + 123456);  // not aligned: floored
    MemoryStore store;
    GenSummary summary;
    ASSERT_TRUE(Generate(o, store, &summary).ok());
    Dataset d = Read(store, o);
    EXPECT_TRUE(d.unparsed_keys.empty()) << d.unparsed_keys.front();
    const TimePoint start = FromUnixMillis(1764000000000);
    ASSERT_EQ(d.snapshots.size(), 1u);
    EXPECT_EQ(d.snapshots.begin()->first, start);
    ASSERT_EQ(d.updates.size(), o.partitions);
    int i = 0;
    for (const auto& [t, part] : d.updates) {
      EXPECT_EQ(t, start + o.interval * i++);
    }
    const std::regex name_re(R"(part-\d{5}\.ndjson(\.lz4)?|_SUCCESS)");
    for (const auto& m : {&d.snapshots, &d.updates}) {
      for (const auto& [t, part] : *m) {
        for (const auto& n : part.names) EXPECT_TRUE(std::regex_match(n, name_re)) << n;
      }
    }
    auto written = summary.keys;
    std::sort(written.begin(), written.end());
    EXPECT_EQ(written, store.Keys());
    EXPECT_EQ(summary.objects, store.Keys().size());
    EXPECT_EQ(summary.partitions, o.partitions);
    EXPECT_EQ(summary.snapshots, 1u);
  }
}

TEST(GeneratorTest, SpanSetsThePartitionCount) {
  GenOptions o = SmallOptions();
  o.snapshot = false;
  o.span = std::chrono::minutes(61);
  MemoryStore store;
  GenSummary summary;
  ASSERT_TRUE(Generate(o, store, &summary).ok());
  EXPECT_EQ(summary.partitions, 13u);
  EXPECT_EQ(summary.snapshots, 0u);
}

TEST(GeneratorTest, Lz4ObjectsAreValidFramesAtTheConfiguredShare) {
  for (double share : {0.0, 0.5, 1.0}) {
    GenOptions o = SmallOptions();
    o.partitions = 20;
    o.lz4_share = share;
    MemoryStore store;
    ASSERT_TRUE(Generate(o, store).ok());
    int lz4 = 0, plain = 0;
    for (const auto& [key, body] : RawObjects(store)) {
      if (body.empty()) {
        EXPECT_FALSE(gen_test::EndsWith(key, ".lz4")) << "empty objects stay plain";
        continue;
      }
      if (gen_test::EndsWith(key, ".ndjson.lz4")) {
        ++lz4;
        ASSERT_GE(body.size(), 4u);
        EXPECT_EQ(body.substr(0, 4), std::string("\x04\x22\x4d\x18", 4)) << "LZ4 frame magic";
        auto plain_body = gen_test::DecompressLz4Frame(body);
        ASSERT_TRUE(plain_body.has_value()) << key;
        EXPECT_FALSE(plain_body->empty());
      } else {
        ASSERT_TRUE(gen_test::EndsWith(key, ".ndjson")) << key;
        EXPECT_NE(body.front(), '\x04');
        ++plain;
      }
    }
    double ratio = double(lz4) / (lz4 + plain);
    if (share == 0.0) { EXPECT_EQ(lz4, 0); }
    if (share == 1.0) { EXPECT_EQ(plain, 0); }
    if (share == 0.5) { EXPECT_NEAR(ratio, 0.5, 0.2) << lz4 << " of " << lz4 + plain; }
  }
}

TEST(GeneratorTest, BadLineShareIsRoughlyHonoured) {
  GenOptions o = SmallOptions();
  o.partitions = 20;
  o.updates_per_partition = 300;
  o.bad_line_share = 0.05;
  MemoryStore store;
  GenSummary summary;
  ASSERT_TRUE(Generate(o, store, &summary).ok());
  Dataset d = Read(store, o);
  EXPECT_EQ(d.bad, summary.bad_lines);
  EXPECT_EQ(d.good, summary.records);
  EXPECT_NEAR(double(d.bad) / (d.bad + d.good), 0.05, 0.012) << d.bad << " bad of " << d.bad + d.good;
  for (const auto& [t, part] : d.updates) {
    for (const auto& r : part.records) ASSERT_NE(r.id[0], 'x') << "reserved ids only on malformed lines";
  }

  o.bad_line_share = 0;
  MemoryStore clean;
  ASSERT_TRUE(Generate(o, clean, &summary).ok());
  EXPECT_EQ(Read(clean, o).bad, 0u);
}

// Field names in order and their JSON types, per record type.
void ExpectShape(const std::string& line, bool flat) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  ASSERT_FALSE(d.HasParseError()) << line;
  std::vector<std::string> names;
  for (const auto& m : d.GetObject()) names.emplace_back(m.name.GetString());
  std::string type = flat ? "" : d["type"].GetString();
  std::vector<std::string> want;
  if (flat) {
    want = {"id", "version", "deleted", "title", "description", "url", "country", "campaign_id", "keywords"};
  } else if (type == "campaign") {
    want = {"type", "id", "version", "status", "deleted", "campaign_name", "advertiser", "country"};
  } else if (type == "ad_group") {
    want = {"type", "id", "campaign_id", "version", "status", "deleted", "ad_group_name", "bid_micros"};
  } else {
    ASSERT_EQ(type, "ad");
    want = {"type", "id", "ad_group_id", "version", "status", "deleted", "title", "description", "url", "keywords"};
  }
  ASSERT_EQ(names, want) << line;
  static const std::regex kId[] = {std::regex("c\\d{8}"), std::regex("g\\d{8}"), std::regex("a\\d{8}")};
  const std::string id = d["id"].GetString();
  EXPECT_TRUE(std::regex_match(id, kId[type == "campaign" ? 0 : type == "ad_group" ? 1 : 2])) << id;
  EXPECT_TRUE(d["version"].IsInt64());
  EXPECT_TRUE(d["deleted"].IsBool());
  if (!flat) {
    std::string status = d["status"].GetString();
    EXPECT_TRUE(status == "ACTIVE" || status == "PAUSED") << status;
  }
  if (d.HasMember("campaign_id")) { EXPECT_TRUE(std::regex_match(d["campaign_id"].GetString(), kId[0])); }
  if (d.HasMember("ad_group_id")) { EXPECT_TRUE(std::regex_match(d["ad_group_id"].GetString(), kId[1])); }
  if (d.HasMember("country")) { EXPECT_TRUE(std::regex_match(d["country"].GetString(), std::regex("[A-Z]{2}"))); }
  if (d.HasMember("bid_micros")) { EXPECT_GT(d["bid_micros"].GetInt64(), 0); }
  if (d.HasMember("url")) { EXPECT_TRUE(std::string_view(d["url"].GetString()).starts_with("https://www.")); }
  if (d.HasMember("keywords")) {
    ASSERT_TRUE(d["keywords"].IsArray());
    EXPECT_GE(d["keywords"].Size(), 2u);
    for (const auto& k : d["keywords"].GetArray()) EXPECT_TRUE(k.IsString() && k.GetStringLength() > 0);
  }
  for (const char* text : {"title", "description", "campaign_name", "advertiser", "ad_group_name"}) {
    if (d.HasMember(text)) { EXPECT_GT(d[text].GetStringLength(), 0u) << text; }
  }
}

TEST(GeneratorTest, RecordsHaveTheDocumentedShape) {
  GenOptions o = SmallOptions();
  MemoryStore store;
  ASSERT_TRUE(Generate(o, store).ok());
  Dataset d = Read(store, o);
  std::map<std::string, int> types;
  for (const auto& m : {&d.snapshots, &d.updates}) {
    for (const auto& [t, part] : *m) {
      for (const auto& r : part.records) {
        ++types[r.type];
        ExpectShape(r.line, false);
      }
    }
  }
  EXPECT_GT(types["campaign"], 0);
  EXPECT_GT(types["ad_group"], 0);
  EXPECT_GT(types["ad"], 0);
  EXPECT_EQ(types.size(), 3u);
}

TEST(GeneratorTest, AdRecordsAreRealisticallySized) {
  GenOptions o = SmallOptions();
  o.campaigns = 40;
  MemoryStore store;
  ASSERT_TRUE(Generate(o, store).ok());
  Dataset d = Read(store, o);
  uint64_t bytes = 0, n = 0;
  for (const auto& r : d.snapshots.begin()->second.records) {
    if (r.type != "ad") continue;
    bytes += r.line.size();
    ++n;
  }
  ASSERT_GT(n, 0u);
  EXPECT_GE(bytes / n, 300u);
  EXPECT_LE(bytes / n, 600u);
}

TEST(GeneratorTest, VersionsIncreasePerEntityAndDuplicatesAreExactCopies) {
  GenOptions o = SmallOptions();
  o.partitions = 15;
  o.duplicate_share = 0.1;
  MemoryStore store;
  GenSummary summary;
  ASSERT_TRUE(Generate(o, store, &summary).ok());
  EXPECT_GT(summary.duplicates, 0u);
  Dataset d = Read(store, o);
  // (id, version) -> the line; every pair seen twice must be byte-equal.
  std::map<std::pair<std::string, int64_t>, std::string> seen;
  std::map<std::string, int64_t> newest;  // over earlier batches
  uint64_t duplicates = 0;
  auto check_batch = [&](TimePoint t, const std::vector<Record>& records, bool snapshot) {
    std::map<std::string, int64_t> batch_newest;
    std::set<std::string> ids;
    for (const auto& r : records) {
      auto [it, fresh] = seen.emplace(std::make_pair(r.id, r.version), r.line);
      if (!fresh) {
        EXPECT_EQ(it->second, r.line) << "same id and version, different bytes";
        ++duplicates;
        continue;
      }
      if (snapshot) {
        EXPECT_LT(r.version, ToUnixMillis(t)) << "snapshot versions predate the snapshot";
      } else {
        EXPECT_GE(r.version, ToUnixMillis(t));
        EXPECT_LT(r.version, ToUnixMillis(t + o.interval));
      }
      if (auto n = newest.find(r.id); n != newest.end()) {
        EXPECT_GT(r.version, n->second) << r.id << ": a new version must be newer than earlier batches";
      }
      auto& b = batch_newest[r.id];
      b = std::max(b, r.version);
    }
    for (const auto& [id, v] : batch_newest) newest[id] = std::max(newest[id], v);
  };
  for (const auto& [t, part] : d.snapshots) check_batch(t, part.records, true);
  for (const auto& [t, part] : d.updates) check_batch(t, part.records, false);
  EXPECT_EQ(duplicates, summary.duplicates);
}

// Replays every well-formed update over the first snapshot and compares the
// result with a second snapshot written after the updates.
TEST(GeneratorTest, SnapshotHoldsEveryLiveEntityExactlyOnce) {
  GenOptions o = SmallOptions();
  o.partitions = 0;
  o.bad_line_share = 0.01;
  auto state = GenState::Create(o);
  ASSERT_TRUE(state.ok());
  MemoryStore store;
  const TimePoint start = FromUnixMillis(1764000000000);
  ASSERT_TRUE(WriteSnapshot(o, *state, start, store).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(GeneratePartition(o, *state, start + o.interval * i, store).ok());
  }
  const TimePoint later = state->min_snapshot_time();
  EXPECT_EQ(later, start + o.interval * 20);
  ASSERT_TRUE(WriteSnapshot(o, *state, later, store).ok());

  Dataset d = Read(store, o);
  ASSERT_EQ(d.snapshots.size(), 2u);
  const auto& first = d.snapshots.at(start).records;
  const auto& second = d.snapshots.at(later).records;
  EXPECT_EQ(first.size(), 8u + 8 * 3 + 8 * 3 * 4);

  std::map<std::string, Record> latest;
  Apply(&latest, first);
  for (const auto& [t, part] : d.updates) Apply(&latest, part.records);

  std::map<std::string, const Record*> in_second;
  for (const auto& r : second) {
    EXPECT_FALSE(r.deleted);
    EXPECT_TRUE(in_second.emplace(r.id, &r).second) << r.id << " twice in the snapshot";
  }
  uint64_t live[3] = {0, 0, 0};
  for (const auto& [id, r] : latest) {
    auto it = in_second.find(id);
    if (r.deleted) {
      EXPECT_EQ(it, in_second.end()) << id << " is deleted but in the snapshot";
      continue;
    }
    ++live[id[0] == 'c' ? 0 : id[0] == 'g' ? 1 : 2];
    ASSERT_NE(it, in_second.end()) << id << " is live but missing from the snapshot";
    EXPECT_EQ(it->second->version, r.version) << id;
    EXPECT_EQ(it->second->status, r.status) << id;
    EXPECT_EQ(it->second->parent, r.parent) << id;
    // Cascading deletes: a live entity's parent is live.
    if (!r.parent.empty()) {
      auto p = latest.find(r.parent);
      ASSERT_NE(p, latest.end()) << r.parent;
      EXPECT_FALSE(p->second.deleted) << id << " is live under deleted " << r.parent;
    }
  }
  EXPECT_EQ(in_second.size(), live[0] + live[1] + live[2]);
  EXPECT_EQ(state->live_campaigns(), live[0]);
  EXPECT_EQ(state->live_ad_groups(), live[1]);
  EXPECT_EQ(state->live_ads(), live[2]);
}

TEST(GeneratorTest, UpdatesCoverEveryKindOfChange) {
  GenOptions o = SmallOptions();
  o.partitions = 30;
  o.updates_per_partition = 300;
  MemoryStore store;
  ASSERT_TRUE(Generate(o, store).ok());
  Dataset d = Read(store, o);
  std::map<std::string, Record> latest;
  Apply(&latest, d.snapshots.begin()->second.records);
  std::map<std::string, int> counts;  // "<level letter> <change>"
  for (const auto& [t, part] : d.updates) {
    for (const auto& r : part.records) {
      std::string level(1, r.id[0]);
      auto it = latest.find(r.id);
      if (it == latest.end()) {
        ++counts[level + " new"];
      } else if (r.version > it->second.version) {
        const Record& before = it->second;
        if (r.deleted) {
          ++counts[level + " delete"];
        } else if (r.status != before.status) {
          ++counts[level + " " + r.status];
        } else {
          ++counts[level + " edit"];
        }
      }
    }
    Apply(&latest, part.records);
  }
  for (const char* kind : {"c new", "c delete", "c PAUSED", "c ACTIVE", "c edit", "g new", "g delete", "g PAUSED",
                           "g ACTIVE", "g edit", "a new", "a delete", "a PAUSED", "a ACTIVE", "a edit"}) {
    EXPECT_GT(counts[kind], 0) << kind;
  }
}

TEST(GeneratorTest, FollowModeMatchesOneShotGenerate) {
  GenOptions o = SmallOptions();
  MemoryStore one_shot, stepwise;
  ASSERT_TRUE(Generate(o, one_shot).ok());

  auto state = GenState::Create(o);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->last_partition().has_value());
  const TimePoint start = FromUnixMillis(1764000000000);
  ASSERT_TRUE(WriteSnapshot(o, *state, start, stepwise).ok());
  for (uint32_t i = 0; i < o.partitions; ++i) {
    TimePoint t = start + o.interval * i;
    ASSERT_TRUE(GeneratePartition(o, *state, t, stepwise).ok());
    EXPECT_EQ(state->last_partition(), t);
  }
  EXPECT_EQ(RawObjects(one_shot), RawObjects(stepwise));
}

TEST(GeneratorTest, ReplayLetsARestartedFollowRunContinueConsistently) {
  GenOptions o = SmallOptions();
  const TimePoint start = FromUnixMillis(1764000000000);
  MemoryStore first_run;
  ASSERT_TRUE(Generate(o, first_run).ok());

  // A restart: replay the snapshot and the first half, write the rest.
  auto state = GenState::Create(o);
  ASSERT_TRUE(state.ok());
  MemoryStore second_run;
  ASSERT_TRUE(ReplaySnapshot(o, *state, start).ok());
  const uint32_t half = o.partitions / 2;
  for (uint32_t i = 0; i < half; ++i) ASSERT_TRUE(ReplayPartition(o, *state, start + o.interval * i).ok());
  EXPECT_TRUE(second_run.Keys().empty()) << "replay writes nothing";
  EXPECT_EQ(ReplayPartition(o, *state, start).code(), StatusCode::kInvalidArgument) << "same REQUIRES as writing";
  for (uint32_t i = half; i < o.partitions; ++i) {
    ASSERT_TRUE(GeneratePartition(o, *state, start + o.interval * i, second_run).ok());
  }
  auto expected = RawObjects(first_run);
  auto layout = PartitionLayout::Create(o.layout, o.interval);
  ASSERT_TRUE(layout.ok());
  std::erase_if(expected, [&](const auto& kv) {
    std::string_view key = kv.first;
    if (!key.starts_with(o.updates_prefix)) return true;
    auto t = layout->ParseKey(key.substr(o.updates_prefix.size()));
    return !t || *t < start + o.interval * half;
  });
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(RawObjects(second_run), expected);
}

TEST(GeneratorTest, FollowModeMayChangeRatesButNotTheShape) {
  GenOptions o = SmallOptions();
  auto state = GenState::Create(o);
  ASSERT_TRUE(state.ok());
  MemoryStore store;
  const TimePoint start = FromUnixMillis(1764000000000);
  ASSERT_TRUE(GeneratePartition(o, *state, start, store).ok());

  EXPECT_EQ(GeneratePartition(o, *state, start, store).code(), StatusCode::kInvalidArgument) << "not later";
  EXPECT_EQ(GeneratePartition(o, *state, start - o.interval, store).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GeneratePartition(o, *state, start + std::chrono::minutes(7), store).code(),
            StatusCode::kInvalidArgument) << "not aligned";
  EXPECT_EQ(WriteSnapshot(o, *state, start, store).code(), StatusCode::kInvalidArgument)
      << "snapshot older than versions written";
  GenOptions other_seed = o;
  other_seed.seed = 99;
  EXPECT_EQ(GeneratePartition(other_seed, *state, start + o.interval, store).code(), StatusCode::kInvalidArgument);

  GenOptions busier = o;
  busier.updates_per_partition = 1000;
  busier.lz4_share = 1.0;
  EXPECT_TRUE(GeneratePartition(busier, *state, start + o.interval * 3, store).ok()) << "gaps are fine";
}

TEST(GeneratorTest, EmptyObjectsAndMarkersAtTheirShares) {
  for (double share : {0.0, 1.0}) {
    GenOptions o = SmallOptions();
    o.empty_object_share = share;
    o.success_marker_share = share;
    MemoryStore store;
    ASSERT_TRUE(Generate(o, store).ok());
    Dataset d = Read(store, o);
    int markers = 0, empties = 0;
    for (const auto& [key, body] : RawObjects(store)) {
      if (gen_test::EndsWith(key, "/_SUCCESS")) {
        ++markers;
        EXPECT_TRUE(body.empty());
      } else if (body.empty()) {
        ++empties;
      }
    }
    const int folders = static_cast<int>(o.partitions) + 1;
    EXPECT_EQ(markers, share == 1.0 ? folders : 0);
    EXPECT_EQ(empties, share == 1.0 ? static_cast<int>(o.partitions) : 0);
  }
}

TEST(GeneratorTest, EscapedUnicodeRecordsAreAsciiOnly) {
  GenOptions o = SmallOptions();
  o.bad_line_share = 0;
  o.lz4_share = 0;
  for (double share : {0.0, 1.0}) {
    o.escaped_unicode_share = share;
    MemoryStore store;
    ASSERT_TRUE(Generate(o, store).ok());
    bool any_non_ascii = false, any_escape = false;
    for (const auto& [key, body] : RawObjects(store)) {
      for (char c : body) any_non_ascii |= static_cast<unsigned char>(c) >= 0x80;
      any_escape |= body.find("\\u") != std::string::npos;
    }
    EXPECT_EQ(any_non_ascii, share == 0.0);
    EXPECT_EQ(any_escape, share == 1.0);
  }
}

TEST(GeneratorTest, FlatCorpus) {
  GenOptions o;
  o.flat = true;
  o.total_ads = 3000;
  o.campaigns = 20;
  o.partitions = 2;
  o.updates_per_partition = 200;
  o.snapshot_lines_per_object = 1000;
  MemoryStore store;
  GenSummary summary;
  ASSERT_TRUE(Generate(o, store, &summary).ok());
  Dataset d = Read(store, o);
  ASSERT_EQ(d.snapshots.size(), 1u);
  const auto& snap = d.snapshots.begin()->second;
  EXPECT_EQ(snap.records.size(), 3000u);
  EXPECT_GE(snap.names.size(), 3u);
  std::set<std::string> ids, campaigns;
  uint64_t bytes = 0;
  for (const auto& r : snap.records) {
    EXPECT_TRUE(ids.insert(r.id).second);
    ExpectShape(r.line, true);
    bytes += r.line.size();
  }
  EXPECT_EQ(*ids.begin(), "a00000001");
  EXPECT_EQ(*ids.rbegin(), "a00003000");
  EXPECT_GE(bytes / snap.records.size(), 300u);
  EXPECT_LE(bytes / snap.records.size(), 600u);
  ASSERT_EQ(d.updates.size(), 2u);
  bool new_doc = false, deleted = false;
  for (const auto& [t, part] : d.updates) {
    for (const auto& r : part.records) {
      ExpectShape(r.line, true);
      new_doc |= !ids.count(r.id);
      deleted |= r.deleted;
    }
  }
  EXPECT_TRUE(new_doc);
  EXPECT_TRUE(deleted);
}

TEST(GeneratorTest, TotalAdsSpreadsOverTheHierarchy) {
  GenOptions o = SmallOptions();
  o.total_ads = 101;
  o.partitions = 0;
  MemoryStore store;
  ASSERT_TRUE(Generate(o, store).ok());
  auto state = GenState::Create(o);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->live_ads(), 101u);
  EXPECT_EQ(state->live_ad_groups(), 24u);
  EXPECT_EQ(InitialAdCount(o), 101u);
  Dataset d = Read(store, o);
  int ads = 0;
  for (const auto& r : d.snapshots.begin()->second.records) ads += r.type == "ad";
  EXPECT_EQ(ads, 101);
}

TEST(GeneratorTest, ValidationNamesTheField) {
  struct Case {
    const char* field;
    void (*mutate)(GenOptions&);
  };
  const Case cases[] = {
      {"lz4_share", [](GenOptions& o) { o.lz4_share = 1.5; }},
      {"duplicate_share", [](GenOptions& o) { o.duplicate_share = std::nan(""); }},
      {"bad_line_share", [](GenOptions& o) { o.bad_line_share = 1.0; }},
      {"objects_per_partition", [](GenOptions& o) { o.objects_per_partition = 0; }},
      {"updates_prefix", [](GenOptions& o) { o.updates_prefix = "updates"; }},
      {"snapshots_prefix", [](GenOptions& o) { o.snapshots_prefix = "/snap/"; }},
      {"snapshots_prefix", [](GenOptions& o) { o.snapshots_prefix = "updates/snap/"; }},
      {"snapshots_prefix", [](GenOptions& o) { o.updates_prefix = ""; }},
      {"layout", [](GenOptions& o) { o.layout = "%Y/%m/%d/%H"; }},
      {"campaigns", [](GenOptions& o) { o.campaigns = 0; }},
      {"zipf_exponent", [](GenOptions& o) { o.zipf_exponent = 0; }},
      {"snapshot_lines_per_object", [](GenOptions& o) { o.snapshot_lines_per_object = 0; }},
  };
  EXPECT_TRUE(ValidateGenOptions(GenOptions{}).ok());
  for (const auto& c : cases) {
    GenOptions o;
    c.mutate(o);
    Status st = ValidateGenOptions(o);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(st.message().find(c.field), std::string::npos) << st.ToString();
    MemoryStore store;
    EXPECT_FALSE(Generate(o, store).ok());
    EXPECT_TRUE(store.Keys().empty());
  }
}

// A benchmark-sized run, for `--gtest_also_run_disabled_tests` by hand
// (figures belong in perf/, not in timed tests).
TEST(GeneratorTest, DISABLED_FlatCorpusOf500kDocuments) {
  GenOptions o;
  o.flat = true;
  o.total_ads = 500000;
  o.partitions = 0;
  MemoryStore store;
  GenSummary summary;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Generate(o, store, &summary).ok());
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu records, %llu objects, %.1f MB in %.2f s\n", static_cast<unsigned long long>(summary.records),
              static_cast<unsigned long long>(summary.objects), summary.bytes / 1e6, secs);
}

}  // namespace
}  // namespace freshet
