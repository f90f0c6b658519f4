// The full's entities segment (ingest/base_entities.h): records round-trip,
// and a delta joined against it is the very delta joined against the
// parsed snapshot.
#include "ingest/base_entities.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "commit/generation_builder.h"
#include "config/schema_hash.h"
#include "gen/generator.h"
#include "index/random_access_source.h"
#include "ingest/build_schema.h"
#include "ingest/doc_assembler.h"
#include "ingest/ingested_window.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet {
namespace {

// What the build reads of a record: everything but the fields its level
// does not keep, its tiebreak and where it was read from (a base record
// carries none of these).
bool SameForTheBuild(const EntityRecord& a, const EntityRecord& b, const BuildSchema& s) {
  if (!(a.level == b.level && a.id == b.id && a.parent_id == b.parent_id && a.version == b.version &&
        a.deleted == b.deleted && a.active == b.active)) {
    return false;
  }
  for (size_t f = 0; f < s.fields.size(); ++f) {
    if (s.kept[a.level][f] && a.field(f) != b.field(f)) return false;
  }
  return true;
}

bool SameRecord(const EntityRecord& a, const EntityRecord& b) {
  return a.level == b.level && a.id == b.id && a.parent_id == b.parent_id && a.version == b.version &&
         a.deleted == b.deleted && a.active == b.active && a.json() == b.json() && a.fields == b.fields &&
         a.tiebreak == b.tiebreak && a.source == b.source && a.line == b.line;
}

class BaseEntitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gen_.seed = 11;
    gen_.campaigns = 6;
    gen_.ad_groups_per_campaign = 4;
    gen_.ads_per_ad_group = 5;
    gen_.partitions = 4;
    gen_.updates_per_partition = 30;
    ASSERT_TRUE(Generate(gen_, source_).ok());
    options_.schema = DefaultAdsSchema();
    snapshot_ = MakeParsedSnapshot("snap", Decode(ListAllSync(source_, gen_.snapshots_prefix).value()));
    schema_ = CompileBuildSchema(options_.schema);
    auto files = BuildEntitiesSegment(options_.schema, snapshot_.table, SegmentWriterOptions{});
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    for (SegmentFile& f : *files) files_[f.name] = std::move(f.bytes);
    // The full's index: leaf records read their stored values from it.
    SegmentWriterOptions index_options;
    index_options.ids_ascending = true;
    SegmentWriter index(index_options);
    StreamFullDocs(options_.schema, snapshot_.table, DocParallelism{}, [&index](const DocBatch& b) { index.Add(b); });
    auto index_files = index.Finish();
    ASSERT_TRUE(index_files.ok()) << index_files.status().ToString();
    for (SegmentFile& f : *index_files) files_[f.name] = std::move(f.bytes);
    SegmentReader::FileOpener open = [this](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
      opened_.insert(name);
      auto it = files_.find(name);
      if (it == files_.end()) return Status::NotFound(name);
      return StringSource(it->second);
    };
    auto view = BaseEntities::Open(open, options_.schema, 1 << 20);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    view_ = std::move(view).value();
    open_ = open;
  }

  DecodedInput Decode(const std::vector<ObjectInfo>& objects) {
    std::vector<std::pair<ObjectInfo, std::string>> fetched;
    for (const auto& o : objects) fetched.emplace_back(o, GetSync(source_, o.key)->body);
    return DecodeAndParse(options_.schema, fetched);
  }

  GenOptions gen_;
  MemoryStore source_;
  Options options_;
  ParsedSnapshot snapshot_;
  BuildSchema schema_;
  std::map<std::string, std::string> files_;
  std::set<std::string> opened_;  // every file name the opener was asked for
  SegmentReader::FileOpener open_;
  std::unique_ptr<BaseEntities> view_;
};

// Each record's full document, as BuildEntitiesSegment finds it.
std::vector<std::optional<FullDocRef>> FullDocs(const SchemaOptions& schema, const EntityTable& table,
                                                std::vector<std::vector<uint32_t>>* shapes) {
  const BuildSchema s = CompileBuildSchema(schema);
  const auto [leaf_begin, leaf_end] = table.Level(s.leaf);
  const size_t first_leaf = static_cast<size_t>(leaf_begin - table.records().data());
  std::vector<std::optional<FullDocRef>> out(table.records().size());
  shapes->clear();
  shapes->reserve(table.records().size());  // FullDocRef points into it
  uint32_t doc = 0;
  ForEachFullDocShape(schema, table, [&](size_t leaf, const std::vector<uint32_t>& stored) {
    shapes->push_back(stored);
    out[first_leaf + leaf] = FullDocRef{doc++, &shapes->back()};
  });
  return out;
}

TEST_F(BaseEntitiesTest, RecordsRoundTripAndDamageIsDataLoss) {
  ASSERT_FALSE(snapshot_.table.empty());
  // The full's documents, by number, as the segment's decoder reads them.
  auto reader = SegmentReader::Open([this](const std::string& name) -> Result<std::unique_ptr<RandomAccessSource>> {
    return StringSource(files_.at(name));
  });
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  FullDocReader docs = [&reader](uint32_t doc) { return (*reader)->Stored(doc); };
  std::vector<std::vector<uint32_t>> shapes;
  const auto full_docs = FullDocs(options_.schema, snapshot_.table, &shapes);
  size_t from_doc = 0;
  for (size_t i = 0; i < snapshot_.table.records().size(); ++i) {
    const EntityRecord& r = snapshot_.table.records()[i];
    const FullDocRef* doc = full_docs[i] ? &*full_docs[i] : nullptr;
    from_doc += doc != nullptr;
    std::string bytes = EncodeEntity(r, schema_, doc);
    auto back = DecodeEntity(bytes, r.id, schema_, docs);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(SameForTheBuild(*back, r, schema_)) << r.id;
    for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
      EXPECT_EQ(DecodeEntity(std::string_view(bytes).substr(0, cut), r.id, schema_, docs).status().code(),
                StatusCode::kDataLoss);
    }
    EXPECT_EQ(DecodeEntity(bytes + "x", r.id, schema_, docs).status().code(), StatusCode::kDataLoss);
    // Fulls written before: the lossless encoding still decodes, as is.
    auto v1 = DecodeEntity(EncodeEntityRecordV1(r), r.id, schema_, docs);
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    EXPECT_TRUE(SameRecord(*v1, r)) << r.id;
    if (doc && doc->doc > 0) {
      // Pointing at another leaf's document is caught, not decoded.
      const FullDocRef other{doc->doc - 1, doc->stored};
      EXPECT_EQ(DecodeEntity(EncodeEntity(r, schema_, &other), r.id, schema_, docs).status().code(),
                StatusCode::kDataLoss)
          << r.id;
    }
  }
  EXPECT_EQ(shapes.size(), (*reader)->num_docs());
  EXPECT_GT(from_doc, 0u);
}

// A record keeps only what its level uses, and a leaf the full holds does
// not repeat what its document stores.
TEST_F(BaseEntitiesTest, LeavesDoNotRepeatTheirStoredValues) {
  std::vector<std::vector<uint32_t>> shapes;
  const auto full_docs = FullDocs(options_.schema, snapshot_.table, &shapes);
  size_t projected = 0, lossless = 0, leaves_projected = 0, leaves_lossless = 0;
  for (size_t i = 0; i < snapshot_.table.records().size(); ++i) {
    const EntityRecord& r = snapshot_.table.records()[i];
    const FullDocRef* doc = full_docs[i] ? &*full_docs[i] : nullptr;
    const size_t p = EncodeEntity(r, schema_, doc).size(), l = EncodeEntityRecordV1(r).size();
    projected += p;
    lossless += l;
    if (doc) {
      leaves_projected += p;
      leaves_lossless += l;
    }
  }
  std::printf("entities: %zu bytes encoded (lossless: %zu); leaves with a document %zu (lossless: %zu)\n",
              projected, lossless, leaves_projected, leaves_lossless);
  // This schema keeps "description" as text without storing it, so a leaf
  // still carries that; a flat schema storing every field (the Lucene
  // side-by-side) keeps almost nothing per leaf.
  EXPECT_LT(projected * 10, lossless * 6);
  EXPECT_LT(leaves_projected * 10, leaves_lossless * 6);
}

TEST_F(BaseEntitiesTest, FindAndChildrenAnswerAsTheTable) {
  EXPECT_EQ(view_->entities(), snapshot_.table.size());
  for (const EntityRecord& r : snapshot_.table.records()) {
    const EntityRecord* found = view_->Find(r.level, r.id);
    ASSERT_NE(found, nullptr) << r.id;
    EXPECT_TRUE(SameForTheBuild(*found, r, schema_));
    std::vector<const EntityRecord*> a, b;
    snapshot_.table.ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &a);
    view_->ChildrenOf(static_cast<uint16_t>(r.level + 1), r.id, &b);
    ASSERT_EQ(a.size(), b.size()) << r.id;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]->id, b[i]->id);
  }
  EXPECT_EQ(view_->Find(0, "no-such-campaign"), nullptr);
  EXPECT_EQ(view_->Find(2, ""), nullptr);
  EXPECT_TRUE(view_->status().ok());
  EXPECT_EQ(view_->Find(0, snapshot_.table.records()[0].id), view_->Find(0, snapshot_.table.records()[0].id))
      << "pointers stay valid and unique";
}

TEST_F(BaseEntitiesTest, ChildVersionsAreFindVersionsAndReadNoDocumentOfTheFull) {
  auto fresh = BaseEntities::Open(open_, options_.schema, 1 << 20);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  const BaseEntities& view = **fresh;
  opened_.clear();
  size_t children = 0;
  for (const EntityRecord& r : snapshot_.table.records()) {
    const auto level = static_cast<uint16_t>(r.level + 1);
    std::vector<const EntityRecord*> want, got;
    snapshot_.table.ChildrenOf(level, r.id, &want);
    view.ChildVersionsOf(level, r.id, &got);
    ASSERT_EQ(got.size(), want.size()) << r.id;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i]->id, want[i]->id);
      EXPECT_EQ(got[i]->parent_id, want[i]->parent_id);
      EXPECT_EQ(got[i]->version, want[i]->version);
      EXPECT_EQ(got[i]->deleted, want[i]->deleted);
      EXPECT_EQ(got[i]->active, want[i]->active);
      EXPECT_EQ(got[i], view.FindVersion(level, got[i]->id)) << "the pointer FindVersion answers";
    }
    children += got.size();
  }
  EXPECT_GT(children, 100u);
  EXPECT_TRUE(view.status().ok()) << view.status().ToString();
  for (const std::string& name : opened_) {
    EXPECT_TRUE(name.starts_with(kEntitiesFilePrefix)) << "opened the full's " << name;
  }
  // A child decoded whole later (Find) is what both answer from then on.
  const EntityRecord& leaf = snapshot_.table.records().back();
  const EntityRecord* whole = view.Find(leaf.level, leaf.id);
  ASSERT_NE(whole, nullptr);
  EXPECT_TRUE(SameForTheBuild(*whole, leaf, schema_));
  std::vector<const EntityRecord*> again;
  view.ChildVersionsOf(leaf.level, leaf.parent_id, &again);
  EXPECT_NE(std::find(again.begin(), again.end(), whole), again.end());
  EXPECT_EQ(view.FindVersion(leaf.level, leaf.id), whole);
}

TEST_F(BaseEntitiesTest, ADeltaJoinedAgainstTheFullIsTheDeltaJoinedAgainstTheSnapshot) {
  GenerationContext ctx{&options_.schema, SchemaHash(options_.schema), 1.0};
  BuildPlan plan;
  plan.kind = BatchKind::kDelta;
  plan.full_generation = "full/x";
  plan.delta_generation = "delta/y";
  plan.chain = {"delta/x0"};
  plan.window_start = plan.window_end = gen_.start;
  auto updates = ListAllSync(source_, gen_.updates_prefix).value();
  // Two windows: a segment over each half (touched docs), and a chain start.
  for (bool starts_chain : {false, true}) {
    IngestedWindow a, b;
    std::vector<ObjectInfo> first(updates.begin(), updates.begin() + static_cast<ptrdiff_t>(updates.size() / 2));
    for (IngestedWindow* w : {&a, &b}) {
      WindowDiff d = w->Diff(first);
      w->Apply(d, Decode(d.fetch));
      (void)w->state().TakeTouched();
    }
    plan.window_objects = updates;
    WindowDiff da = a.Diff(updates), db = b.Diff(updates);
    DecodedInput fa = Decode(da.fetch), meta;
    meta.records_total = fa.records_total;
    a.Apply(da, std::move(fa));
    b.Apply(db, Decode(db.fetch));
    auto from_snapshot = BuildChainBatch(ctx, plan, &snapshot_, a, da, meta, starts_chain);
    auto from_full = BuildChainBatch(ctx, plan, nullptr, b, db, meta, starts_chain, view_.get());
    ASSERT_TRUE(from_snapshot.ok()) << from_snapshot.status().ToString();
    ASSERT_TRUE(from_full.ok()) << from_full.status().ToString();
    EXPECT_GT(from_full->delta.docs + from_full->delta.tombstones, 0u);
    ASSERT_EQ(from_full->delta.files.size(), from_snapshot->delta.files.size());
    for (size_t i = 0; i < from_full->delta.files.size(); ++i) {
      EXPECT_TRUE(from_full->delta.files[i].bytes == from_snapshot->delta.files[i].bytes)
          << from_full->delta.files[i].name << (starts_chain ? " (chain start)" : "");
    }
    EXPECT_EQ(from_full->delta.manifest_json, from_snapshot->delta.manifest_json);
  }
  EXPECT_LT(view_->cached(), snapshot_.table.size()) << "only what the fan-out needed was read";
}

}  // namespace
}  // namespace freshet
