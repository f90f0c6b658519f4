#include "index/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace freshet {
namespace {

using ::testing::HasSubstr;

Manifest Sample() {
  Manifest m;
  m.kind = "delta";
  m.generation = "d-20261122T140500Z-0001";
  m.schema_hash = "3f2a";
  m.base = "f-20261122T120000Z";
  m.window_start = "2026-11-22T13:05:00Z";
  m.window_end = "2026-11-22T14:05:00Z";
  m.target = "2026-11-22T14:05:00Z";
  m.watermark = "2026-11-22T14:05:00Z";
  m.skipped = {"2026-11-22T13:55:00Z", "2026-11-22T14:00:00Z"};
  m.inputs = {{"updates/2026/11/22/14/05/part-0.json", 1234, "\"abc\""},
              {"updates/2026/11/22/14/05/part-1.json.lz4", 99, "\"def-2\""}};
  m.base_inputs = {{"snapshot/2026-11-22T12/part-0.json.lz4", 4096, "\"s0\""}};
  m.text_fields = {"title", "description"};
  m.keyword_fields = {"campaign_id", "country"};
  m.counts = {100, 2, 90, 8, 500, 4000, 1333, 777};
  m.files = {{"ids", 100, "0123456789abcdef"}, {"quarantine.ndjson", 50, "fedcba9876543210"}};
  m.quarantine = "quarantine.ndjson";
  m.warnings = {"skipped 2 partitions", "ünïcode \"quoted\"\n"};
  return m;
}

TEST(ManifestTest, RoundTrip) {
  const Manifest m = Sample();
  const std::string json = ManifestToJson(m);
  auto back = ParseManifest(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(ManifestToJson(*back), json);
}

TEST(ManifestTest, FullWithEmptyCollections) {
  Manifest m;
  m.kind = "full";
  m.generation = "f-1";
  m.snapshot = "2026-11-22T12:00:00.250Z";
  const std::string json = ManifestToJson(m);
  EXPECT_THAT(json, HasSubstr("\"skipped\": []"));
  auto back = ParseManifest(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
}

TEST(ManifestTest, FixedLayout) {
  Manifest m;
  m.kind = "full";
  m.generation = "g";
  m.files = {{"ids", 1, "0000000000000001"}};
  EXPECT_EQ(ManifestToJson(m), R"({
  "format_version": 1,
  "kind": "full",
  "generation": "g",
  "schema_hash": "",
  "base": "",
  "predecessor": "",
  "snapshot": "",
  "window_start": "",
  "window_end": "",
  "target": "",
  "watermark": "",
  "skipped": [],
  "merged": [],
  "inputs": [],
  "removed": [],
  "base_inputs": [],
  "text_fields": [],
  "keyword_fields": [],
  "counts": {
    "records": 0,
    "bad_records": 0,
    "docs": 0,
    "tombstones": 0,
    "terms": 0,
    "postings": 0,
    "input_bytes": 0,
    "output_bytes": 0
  },
  "files": [
    {
      "name": "ids",
      "size": 1,
      "xxh64": "0000000000000001"
    }
  ],
  "quarantine": "",
  "warnings": []
}
)");
}

// Rewrites one part of the sample's JSON through a DOM edit.
std::string Edit(const std::function<void(rapidjson::Document&)>& fn) {
  rapidjson::Document d;
  d.Parse(ManifestToJson(Sample()).c_str());
  fn(d);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  return sb.GetString();
}

void ExpectError(const std::string& json, const std::string& mention,
                 StatusCode code = StatusCode::kDataLoss) {
  auto r = ParseManifest(json);
  ASSERT_FALSE(r.ok()) << json;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr(mention));
}

TEST(ManifestTest, EveryTopLevelKeyIsRequired) {
  for (const char* key : {"format_version", "kind", "generation", "schema_hash", "base", "snapshot",
                          "window_start", "window_end", "target", "watermark", "skipped", "inputs",
                          "base_inputs", "text_fields", "keyword_fields", "counts", "files",
                          "quarantine", "warnings"}) {
    ExpectError(Edit([&](rapidjson::Document& d) { d.RemoveMember(key); }), "missing key \"" + std::string(key) + "\"");
  }
}

TEST(ManifestTest, NestedErrorsNameThePath) {
  ExpectError(Edit([](rapidjson::Document& d) { d["counts"].RemoveMember("docs"); }), "missing key \"counts.docs\"");
  ExpectError(Edit([](rapidjson::Document& d) { d["counts"]["terms"].SetInt(-1); }), "counts.terms");
  ExpectError(Edit([](rapidjson::Document& d) { d["inputs"][1].RemoveMember("etag"); }), "inputs[1].etag");
  ExpectError(Edit([](rapidjson::Document& d) { d["files"][0]["size"].SetString("1"); }), "files[0].size");
  ExpectError(Edit([](rapidjson::Document& d) { d["files"][1]["xxh64"].SetString("XYZ"); }), "files[1].xxh64");
  ExpectError(Edit([](rapidjson::Document& d) { d["skipped"][0].SetString("yesterday"); }), "skipped[0]");
  ExpectError(Edit([](rapidjson::Document& d) { d["watermark"].SetString("2026-13-01T00:00:00Z"); }),
              "watermark");
  ExpectError(Edit([](rapidjson::Document& d) { d["kind"].SetString("partial"); }), "kind");
  ExpectError(Edit([](rapidjson::Document& d) { d["kind"].SetString("full"); }), "base");  // a full with a base
  ExpectError(Edit([](rapidjson::Document& d) { d["format_version"].SetInt(2); }), "format_version",
              StatusCode::kFailedPrecondition);  // another freshet's format, not damage
  ExpectError(Edit([](rapidjson::Document& d) { d["warnings"].SetObject(); }), "warnings");
  ExpectError(Edit([](rapidjson::Document& d) { d["inputs"][0].SetInt(3); }), "inputs[0]");
  ExpectError(Edit([](rapidjson::Document& d) { d["base_inputs"][0]["size"].SetDouble(1.5); }),
              "base_inputs[0].size");
  ExpectError(Edit([](rapidjson::Document& d) { d["text_fields"][1].SetInt(3); }), "text_fields[1]");
}

TEST(ManifestTest, UnknownKeysAreIgnored) {
  auto r = ParseManifest(Edit([](rapidjson::Document& d) {
    d.AddMember("future_key", rapidjson::Value(1), d.GetAllocator());
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Sample());
}

TEST(ManifestTest, InvalidJson) {
  ExpectError("", "not valid JSON");
  ExpectError("{\"kind\": ", "not valid JSON");
  ExpectError("[]", "not a JSON object");
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {
// Before any snapshot exists there is no full: such a delta has no base.
TEST(ManifestTest, DeltaWithoutBaseParses) {
  Manifest m;
  m.kind = "delta";
  m.generation = "delta/x";
  auto back = ParseManifest(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  m.kind = "full";
  m.base = "full/y";
  EXPECT_EQ(ParseManifest(ManifestToJson(m)).status().code(), StatusCode::kDataLoss);
}
}  // namespace
}  // namespace freshet
