#include "commit/verify_generation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/batch_input.h"
#include "config/schema_hash.h"
#include "index/manifest.h"
#include "commit/generation_builder.h"
#include "sink/sink_layout.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::minutes;

const TimePoint kSnapshot = FromUnixMillis(1'795'000'000'000);  // the base snapshot
const TimePoint kP1 = kSnapshot + minutes(5);                  // window partitions
const TimePoint kP2 = kSnapshot + minutes(10);
const TimePoint kP3 = kSnapshot + minutes(15);

const char* kSnapshotPart0 =
    R"({"type":"campaign","id":"c1","version":1,"status":"ACTIVE","campaign_name":"Summer Sale","advertiser":"acme","country":"DE"}
{"type":"campaign","id":"c2","version":1,"status":"ACTIVE","campaign_name":"Winter","advertiser":"bolt","country":"FR"}
{"type":"ad_group","id":"g1","version":1,"campaign_id":"c1","status":"ACTIVE","ad_group_name":"Shoes","bid_micros":1500000}
{"type":"ad_group","id":"g2","version":1,"campaign_id":"c2","status":"ACTIVE","ad_group_name":"Hats","bid_micros":100}
)";
const char* kSnapshotPart1 =
    R"({"type":"ad","id":"a1","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Red running shoes","url":"https://x.test/a1","keywords":["run",5]}
{"type":"ad","id":"a2","version":1,"ad_group_id":"g1","status":"ACTIVE","title":"Blue shoes"}
{"type":"ad","id":"a3","version":1,"ad_group_id":"g2","status":"ACTIVE","title":"Wool hat"}
{"type":"ad","id":"a4","version":1,"ad_group_id":"g2","status":"ACTIVE","title":"Straw hat"}
)";
// Window: a campaign rename (fan-out to a1, a2), a deleted ad, a new ad and
// one malformed line (quarantined).
const char* kUpdate1 =
    R"({"type":"campaign","id":"c1","version":2,"status":"ACTIVE","campaign_name":"Autumn Sale","advertiser":"acme","country":"DE"}
{"type":"ad","id":"a3","version":2,"deleted":true}
this is not json
)";
const char* kUpdate2 =
    R"({"type":"ad","id":"a5","version":1,"ad_group_id":"g2","status":"ACTIVE","title":"Café hat ＣＡＦＥ"}
)";
const char* kUpdate3 = R"({"type":"ad","id":"a4","version":3,"ad_group_id":"g2","status":"PAUSED","title":"Straw hat"}
)";

struct Fixture {
  MemoryStore source, sink;
  Options options;
  std::string salt;

  Fixture() {
    options.schema = DefaultAdsSchema();
    salt = SchemaHash(options.schema) + ":index-v1";
    Put("snapshots/2026/11/22/12/00/part-0.ndjson", kSnapshotPart0);
    Put("snapshots/2026/11/22/12/00/part-1.ndjson", kSnapshotPart1);
    Put("updates/2026/11/22/12/05/part-0.ndjson", kUpdate1);
    Put("updates/2026/11/22/12/10/part-0.ndjson", kUpdate2);
    Put("updates/2026/11/22/12/15/part-0.ndjson", kUpdate3);
  }

  void Put(const std::string& key, const std::string& body) { ASSERT_TRUE(PutSync(source, key, body).ok()); }

  std::vector<ObjectInfo> Objects(const std::string& prefix) {
    auto all = ListAllSync(source, prefix);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<ObjectInfo>{};
  }

  DecodedInput Decode(const std::vector<ObjectInfo>& objects) {
    std::vector<std::pair<ObjectInfo, std::string>> fetched;
    for (const auto& o : objects) fetched.emplace_back(o, GetSync(source, o.key)->body);
    return DecodeAndParse(options.schema, fetched);
  }

  // What the Planner would emit for a full batch (first batch, p1 skipped).
  BuildPlan FullPlan() {
    BuildPlan p;
    p.batch_id = 1;
    p.kind = BatchKind::kFullAndDelta;
    p.full_reason = "no base";
    p.snapshot_time = kSnapshot;
    p.snapshot_objects = Objects("snapshots/");
    p.full_generation = FullGenerationId(salt, kSnapshot, p.snapshot_objects);
    p.target = kP2;
    p.window_start = kSnapshot;
    p.window_end = kP2 + minutes(5);
    p.window_partitions = {kP1, kP2};
    p.skipped = {kP1};
    p.window_objects = Objects("updates/2026/11/22/12/05/");
    for (auto& o : Objects("updates/2026/11/22/12/10/")) p.window_objects.push_back(o);
    p.salt = salt;
    p.delta_generation = DeltaGenerationId(p);
    return p;
  }

  // The next batch: a delta on the same base, with a previous watermark.
  BuildPlan DeltaPlan(const BuildPlan& full) {
    BuildPlan p = full;
    p.batch_id = 2;
    p.kind = BatchKind::kDelta;
    p.full_reason.clear();
    p.target = kP3;
    p.window_end = kP3 + minutes(5);
    p.window_partitions = {kP1, kP2, kP3};
    p.skipped.clear();
    p.window_objects = Objects("updates/");
    p.previous_watermark = kP2;
    p.warnings = {"window is wide"};
    p.delta_generation = DeltaGenerationId(p);
    return p;
  }

  // Builds the batch the daemon's way and commits its files and manifests.
  BuiltBatch BuildAndWrite(const BuildPlan& plan) {
    ParsedSnapshot snapshot = MakeParsedSnapshot(plan.full_generation, Decode(plan.snapshot_objects));
    GenerationContext ctx{&options.schema, SchemaHash(options.schema), /*max_bad_ratio=*/0.5};
    auto built = BuildGenerations(ctx, plan, &snapshot, Decode(plan.window_objects));
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    if (!built.ok()) return {};
    std::vector<const BuiltGeneration*> gens = {&built->delta};
    if (built->full) gens.push_back(&*built->full);
    for (const BuiltGeneration* g : gens) {
      for (const auto& f : g->files) EXPECT_TRUE(PutSync(sink, GenerationFileKey(g->id, f.name), f.bytes).ok());
      EXPECT_TRUE(PutSync(sink, GenerationFileKey(g->id, kManifestName), g->manifest_json).ok());
    }
    return std::move(built).value();
  }
};

TEST(VerifyGenerationTest, RebuildsFullAndDeltaIdentically) {
  Fixture fx;
  BuildPlan plan = fx.FullPlan();
  BuiltBatch built = fx.BuildAndWrite(plan);
  ASSERT_TRUE(built.full.has_value());
  // The batch really exercises fan-out, tombstones and quarantine.
  EXPECT_EQ(built.delta.tombstones, 1u);
  EXPECT_GE(built.delta.docs, 3u);
  EXPECT_TRUE(std::any_of(built.delta.files.begin(), built.delta.files.end(),
                          [](const SegmentFile& f) { return f.name == kQuarantineName; }));

  auto delta = VerifyGeneration(fx.sink, fx.source, fx.options, plan.delta_generation);
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_TRUE(delta->identical()) << ::testing::PrintToString(delta->differences);
  EXPECT_EQ(delta->kind, "delta");
  EXPECT_EQ(delta->compared.size(), 6u);  // ids, postings, quarantine, stored, terms + manifest
  EXPECT_EQ(delta->compared.back(), GenerationFileKey(plan.delta_generation, kManifestName));
  EXPECT_EQ(delta->inputs, 4u);  // 2 snapshot objects (the base for fan-out) + 2 window objects

  auto full = VerifyGeneration(fx.sink, fx.source, fx.options, plan.full_generation);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_TRUE(full->identical()) << ::testing::PrintToString(full->differences);
  EXPECT_EQ(full->kind, "full");
  EXPECT_EQ(full->inputs, 2u);
}

TEST(VerifyGenerationTest, DeltaOnlyBatchWithPreviousWatermarkAndWarnings) {
  Fixture fx;
  BuildPlan first = fx.FullPlan();
  fx.BuildAndWrite(first);
  BuildPlan second = fx.DeltaPlan(first);
  BuiltBatch built = fx.BuildAndWrite(second);
  EXPECT_FALSE(built.full.has_value());
  auto report = VerifyGeneration(fx.sink, fx.source, fx.options, second.delta_generation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->identical()) << ::testing::PrintToString(report->differences);
}

// A truncated snapshot object would have cost the full every ad in it (one
// "bad record" under the old rule, well under max_bad_ratio): the full
// batch fails, naming the object.
TEST(VerifyGenerationTest, AFullBuildRefusesToLoseACorruptSnapshotObject) {
  Fixture fx;
  fx.Put("snapshots/2026/11/22/12/00/part-2.lz4", std::string("\x04\x22\x4d\x18truncated", 13));
  BuildPlan plan = fx.FullPlan();
  ParsedSnapshot snapshot = MakeParsedSnapshot(plan.full_generation, fx.Decode(plan.snapshot_objects));
  GenerationContext ctx{&fx.options.schema, SchemaHash(fx.options.schema), /*max_bad_ratio=*/1.0};
  auto built = BuildGenerations(ctx, plan, &snapshot, fx.Decode(plan.window_objects));
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(built.status().message(), HasSubstr("snapshots/2026/11/22/12/00/part-2.lz4"));
  EXPECT_THAT(built.status().message(), HasSubstr("would lose every record in it"));
}

TEST(VerifyGenerationTest, ReportsTheCorruptedFile) {
  Fixture fx;
  BuildPlan plan = fx.FullPlan();
  BuiltBatch built = fx.BuildAndWrite(plan);
  const std::string key = GenerationFileKey(plan.delta_generation, "stored");
  std::string bytes = GetSync(fx.sink, key)->body;
  bytes[bytes.size() / 2] ^= 0x20;
  ASSERT_TRUE(PutSync(fx.sink, key, bytes).ok());

  auto report = VerifyGeneration(fx.sink, fx.source, fx.options, plan.delta_generation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->identical());
  EXPECT_THAT(report->differences, ElementsAre(HasSubstr(key + ": stored ")));

  // The full is untouched.
  auto full = VerifyGeneration(fx.sink, fx.source, fx.options, plan.full_generation);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->identical());
}

TEST(VerifyGenerationTest, ReportsManifestAndMissingFiles) {
  Fixture fx;
  BuildPlan plan = fx.FullPlan();
  fx.BuildAndWrite(plan);
  const std::string manifest_key = GenerationFileKey(plan.full_generation, kManifestName);
  std::string manifest = GetSync(fx.sink, manifest_key)->body;
  // Still a valid manifest, different bytes: another warning.
  auto m = ParseManifest(manifest);
  ASSERT_TRUE(m.ok());
  m->warnings.push_back("edited by hand");
  ASSERT_TRUE(PutSync(fx.sink, manifest_key, ManifestToJson(*m)).ok());
  ASSERT_TRUE(DeleteSync(fx.sink, GenerationFileKey(plan.full_generation, "terms")).ok());

  auto report = VerifyGeneration(fx.sink, fx.source, fx.options, plan.full_generation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_THAT(report->differences,
              ElementsAre(HasSubstr(GenerationFileKey(plan.full_generation, "terms") + ": missing"),
                          AllOf(HasSubstr(manifest_key), HasSubstr("first difference at line"))));
}

TEST(VerifyGenerationTest, ChangedOrMissingInputsAreErrors) {
  Fixture fx;
  BuildPlan plan = fx.FullPlan();
  fx.BuildAndWrite(plan);
  fx.Put("updates/2026/11/22/12/10/part-0.ndjson", std::string(kUpdate2) + "\n");
  auto changed = VerifyGeneration(fx.sink, fx.source, fx.options, plan.delta_generation);
  EXPECT_EQ(changed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(changed.status().message(), HasSubstr("updates/2026/11/22/12/10/part-0.ndjson changed"));

  ASSERT_TRUE(DeleteSync(fx.source, "snapshots/2026/11/22/12/00/part-1.ndjson").ok());
  auto gone = VerifyGeneration(fx.sink, fx.source, fx.options, plan.full_generation);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("part-1.ndjson"));
}

TEST(VerifyGenerationTest, SchemaMismatchAndMissingGeneration) {
  Fixture fx;
  BuildPlan plan = fx.FullPlan();
  fx.BuildAndWrite(plan);
  Options other = fx.options;
  other.schema.text_fields.push_back("description2");
  auto mismatch = VerifyGeneration(fx.sink, fx.source, other, plan.delta_generation);
  EXPECT_EQ(mismatch.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(mismatch.status().message(), HasSubstr("schema"));

  auto missing = VerifyGeneration(fx.sink, fx.source, fx.options, "delta/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace freshet
