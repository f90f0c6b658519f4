#include "reader/generation_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reader/opened_generation.h"
#include "reader/sink_fixture.h"

namespace freshet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using reader_test::GenerationSpec;

const std::string kFullId = "full/20261122T120000Z-00000000000000aa";

GenerationSpec Sample() {
  GenerationSpec g{.id = kFullId};
  for (int i = 0; i < 40; ++i) {
    reader_test::Doc d;
    d.id = "a" + std::to_string(i);
    d.fields["title"] = {"red shoes number " + std::to_string(i)};
    g.docs.push_back(d);
  }
  return g;
}

TEST(GenerationCheckTest, IntactGenerationPasses) {
  auto store = std::make_shared<MemoryStore>();
  auto files = reader_test::WriteGeneration(*store, Sample());
  auto check = CheckGeneration(store, kFullId, /*chunk_bytes=*/100);  // many ranged reads per file
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok()) << ::testing::PrintToString(check->problems);
  EXPECT_EQ(check->files_checked, 4u);
  uint64_t total = 0;
  for (const auto& [n, b] : files) total += b.size();
  EXPECT_EQ(check->bytes_checked, total);
}

TEST(GenerationCheckTest, FlippedByteNamesTheFile) {
  auto store = std::make_shared<MemoryStore>();
  auto files = reader_test::WriteGeneration(*store, Sample());
  std::string terms = files["terms"];
  terms[terms.size() / 2] ^= 0x01;
  ASSERT_TRUE(PutSync(*store, GenerationFileKey(kFullId, "terms"), terms).ok());
  auto check = CheckGeneration(store, kFullId);
  ASSERT_TRUE(check.ok());
  ASSERT_EQ(check->problems.size(), 1u) << ::testing::PrintToString(check->problems);
  EXPECT_THAT(check->problems[0], HasSubstr(kFullId + "/terms: xxh64"));
}

TEST(GenerationCheckTest, MissingTruncatedAndResealedFiles) {
  auto store = std::make_shared<MemoryStore>();
  auto files = reader_test::WriteGeneration(*store, Sample());
  ASSERT_TRUE(DeleteSync(*store, GenerationFileKey(kFullId, "ids")).ok());
  ASSERT_TRUE(PutSync(*store, GenerationFileKey(kFullId, "stored"), files["stored"].substr(1)).ok());
  auto check = CheckGeneration(store, kFullId);
  ASSERT_TRUE(check.ok());
  EXPECT_THAT(check->problems, ElementsAre(kFullId + "/ids: missing", HasSubstr(kFullId + "/stored: size")));
}

TEST(GenerationCheckTest, ManifestProblems) {
  auto store = std::make_shared<MemoryStore>();
  auto check = CheckGeneration(store, kFullId);
  ASSERT_TRUE(check.ok());
  EXPECT_THAT(check->problems, ElementsAre(HasSubstr("manifest.json")));

  reader_test::WriteGeneration(*store, Sample());
  ASSERT_TRUE(PutSync(*store, GenerationFileKey(kFullId, kManifestName), "{}").ok());
  check = CheckGeneration(store, kFullId);
  ASSERT_TRUE(check.ok());
  EXPECT_THAT(check->problems, ElementsAre(HasSubstr("manifest.json")));
}

TEST(GenerationCheckTest, ListGenerationsGroupsKeys) {
  MemoryStore store;
  reader_test::WriteGeneration(store, Sample());
  ASSERT_TRUE(PutSync(store, "full/20261122T110000Z-00000000000000ab/ids", "x").ok());  // interrupted write
  auto gens = ListGenerations(store, "full");
  ASSERT_TRUE(gens.ok());
  ASSERT_EQ(gens->size(), 2u);
  EXPECT_EQ((*gens)[0].id, "full/20261122T110000Z-00000000000000ab");
  EXPECT_FALSE((*gens)[0].complete);
  EXPECT_EQ((*gens)[1].id, kFullId);
  EXPECT_TRUE((*gens)[1].complete);
  EXPECT_EQ((*gens)[1].files, 5u);
  auto none = ListGenerations(store, "delta");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace freshet
