#include "ingest/record_parser.h"
#include "ingest/json_text.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <random>
#include <string>

#include "ingest/ingest_test_helpers.h"

namespace freshet {
namespace {

using testing_build::ParseAll;

constexpr std::string_view kAd =
    R"({"type":"ad","id":"a1","version":7,"ad_group_id":"g1","campaign_id":"c1","status":"ACTIVE",)"
    R"("title":"Red running shoes","url":"https://x.test/a1","keywords":["shoes",42],"extra":{"b":1,"a":2}})";

struct Parsed {
  bool ok = false;
  EntityRecord record;
  QuarantineEntry bad;
};

Parsed ParseOne(const SchemaOptions& schema, std::string_view line) {
  RecordParser parser(schema);
  Parsed p;
  p.ok = parser.ParseLine("src/obj.ndjson", 3, line, &p.record, &p.bad);
  return p;
}

// The reason's stable prefix for a line that must be rejected.
std::string Reject(const SchemaOptions& schema, std::string_view line) {
  Parsed p = ParseOne(schema, line);
  EXPECT_FALSE(p.ok) << line;
  EXPECT_EQ(p.bad.source, "src/obj.ndjson");
  EXPECT_EQ(p.bad.line, 3u);
  return p.ok ? "" : std::string(ReasonKind(p.bad.reason));
}

TEST(RecordParserTest, ParsesAGoodLeafRecord) {
  const SchemaOptions schema = DefaultAdsSchema();
  Parsed p = ParseOne(schema, kAd);
  ASSERT_TRUE(p.ok) << p.bad.reason;
  const EntityRecord& r = p.record;
  EXPECT_EQ(r.level, 2);
  EXPECT_EQ(r.id, "a1");
  EXPECT_EQ(r.parent_id, "g1");
  EXPECT_EQ(r.version, 7);
  EXPECT_FALSE(r.deleted);
  EXPECT_TRUE(r.active);
  EXPECT_EQ(r.source, "src/obj.ndjson");
  EXPECT_EQ(r.line, 3u);
  EXPECT_EQ(r.tiebreak, XXH3_64bits(kAd.data(), kAd.size()));
  EXPECT_EQ(r.fields_json,
            R"({"ad_group_id":"g1","campaign_id":"c1","extra":{"a":2,"b":1},"id":"a1","keywords":["shoes",42],)"
            R"("status":"ACTIVE","title":"Red running shoes","type":"ad","url":"https://x.test/a1","version":7})");
  RecordParser parser(schema);
  const BuildSchema& s = parser.schema();
  EXPECT_EQ(r.fields.size(), s.fields.size());
  EXPECT_EQ(r.field(s.FieldIndex("title")), R"("Red running shoes")");
  EXPECT_EQ(r.field(s.FieldIndex("keywords")), R"(["shoes",42])");
  EXPECT_EQ(r.field(s.FieldIndex("version")), "7");
  EXPECT_EQ(r.field(s.FieldIndex("description")), "");  // absent
  // Not a text/keyword/stored field of an ad: not kept as a span.
  EXPECT_EQ(s.FieldIndex("extra"), -1);
}

TEST(RecordParserTest, CanonicalFormIgnoresKeyOrderWhitespaceAndEscapes) {
  const SchemaOptions schema = DefaultFlatSchema();
  Parsed a = ParseOne(schema, R"({"id":"x","version":1,"n":{"z":[1, 2.50, 1e2, -0],"y":null},"s":"caf\u00e9\/\t"})");
  Parsed b = ParseOne(schema, "  {\"s\" : \"caf\xC3\xA9/\\t\", \"n\":{\"y\":null , \"z\":[1,2.5,100.0,-0]},\"version\":1,\"id\":\"x\"}\t");
  ASSERT_TRUE(a.ok) << a.bad.reason;
  ASSERT_TRUE(b.ok) << b.bad.reason;
  EXPECT_EQ(a.record.fields_json, "{\"id\":\"x\",\"n\":{\"y\":null,\"z\":[1,2.5,100.0,0]},\"s\":\"caf\xC3\xA9/\\t\",\"version\":1}");
  EXPECT_EQ(a.record.fields_json, b.record.fields_json);
  EXPECT_NE(a.record.tiebreak, b.record.tiebreak);  // different raw lines
}

// Found by libFuzzer + UBSan: rapidjson 1.1's full-precision parse read a
// zero with an exponent as garbage ("0e90" became -6.6e268 in the record).
TEST(RecordParserTest, AZeroWithAnExponentIsZero) {
  const SchemaOptions schema = DefaultFlatSchema();
  // ... and so was a zero with more than 22 fraction digits (the second
  // campaign's find): "r" holds 0. and 30 zeros.
  Parsed a = ParseOne(schema, R"({"id":"x","version":1,"p":0e90,"q":[0.000E-5,-0e300],"s":"0e90",)"
                              R"("r":-0.000000000000000000000000000000})");
  Parsed b = ParseOne(schema, R"({"id":"x","version":1,"p":0.0,"q":[0.0,-0.0],"s":"0e90","r":-0.0})");
  ASSERT_TRUE(a.ok) << a.bad.reason;
  ASSERT_TRUE(b.ok) << b.bad.reason;
  EXPECT_EQ(a.record.fields_json, b.record.fields_json);
  EXPECT_NE(a.record.fields_json.find("\"s\":\"0e90\""), std::string::npos) << "strings are left alone";
  // Not numbers JSON allows: still rejected.
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":1,"p":00e5})"), kReasonInvalidJson);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":1,"p":0.e5})"), kReasonInvalidJson);
}

// The third campaign's find: significant digits starting with 2^64 - 1,
// then a digit >= 5, wrapped rapidjson 1.1's rounded significand to 0
// (UBSan: clz(0)). That digit becomes '4'; the double is the same.
TEST(RecordParserTest, ANumberStartingWithUint64MaxDigitsParses) {
  const SchemaOptions schema = DefaultFlatSchema();
  Parsed a = ParseOne(schema, R"({"id":"x","version":1,"n":[184467440737095516158,1844674407.37095516159e5]})");
  Parsed b = ParseOne(schema, R"({"id":"x","version":1,"n":[184467440737095516160,184467440737095.516159]})");
  ASSERT_TRUE(a.ok) << a.bad.reason;
  ASSERT_TRUE(b.ok) << b.bad.reason;
  // rapidjson's dtoa (Grisu2) prints a shortest text that reads back as
  // the same double, not always the closest one.
  EXPECT_EQ(a.record.fields_json, R"({"id":"x","n":[184467440737095500000.0,184467440737095.54],"version":1})");
  EXPECT_EQ(b.record.fields_json, a.record.fields_json);
}

// The fourth campaign's find: "0e5e61" is a zero with an exponent followed
// by garbage. The old workaround rewrote "0e5" to "0.0", which made
// "0.0e61", another zero with an exponent, for rapidjson to misread. Now
// rapidjson only finds where numbers are; ParseJsonNumber converts them.
TEST(RecordParserTest, ANumberFollowedByGarbageIsRejectedWhereItEnds) {
  const SchemaOptions schema = DefaultFlatSchema();
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":1,"p":0e5e61})"), kReasonInvalidJson);
  Parsed p = ParseOne(schema, "0e5e61");
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.bad.reason, "invalid JSON: The document root must not be followed by other values. (column 4)");
}

// Integers keep rapidjson's types (they print back as written), other
// numbers are correctly rounded doubles printed shortest, and a number
// beyond the largest double is refused by name.
TEST(RecordParserTest, NumbersAreConvertedExactly) {
  const SchemaOptions schema = DefaultFlatSchema();
  Parsed p = ParseOne(schema, R"({"id":"x","version":1,"n":[0,-0,4294967295,4294967296,-2147483648,-2147483649,)"
                              R"(18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,)"
                              R"(1.5,1e2,0.1,2.2250738585072011e-308,5e-324,2e-324,1e-400,-1e-400,)"
                              R"(1.7976931348623157e308,9007199254740993,0.30000000000000004]})");
  ASSERT_TRUE(p.ok) << p.bad.reason;
  EXPECT_EQ(p.record.fields_json,
            R"({"id":"x","n":[0,0,4294967295,4294967296,-2147483648,-2147483649,)"
            R"(18446744073709551615,18446744073709553000.0,-9223372036854775808,-9223372036854776000.0,)"
            R"(1.5,100.0,0.1,2.225073858507201e-308,5e-324,0.0,0.0,-0.0,)"
            R"(1.7976931348623157e308,9007199254740993,0.30000000000000007],"version":1})");
  Parsed big = ParseOne(schema, R"({"id":"x","version":1,"n":1.8e308})");
  ASSERT_FALSE(big.ok);
  EXPECT_EQ(big.bad.reason, "invalid JSON: Number too big to be stored in double. (column 27)");
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":1,"n":1000e306})"), kReasonInvalidJson);
  // Below half the smallest denormal: zero; above it: that denormal.
  Parsed small = ParseOne(schema, R"({"id":"x","version":1,"n":[100000e-330,3e-324,-0.0000003e-317]})");
  ASSERT_TRUE(small.ok) << small.bad.reason;
  EXPECT_EQ(small.record.fields_json, R"({"id":"x","n":[0.0,5e-324,-5e-324],"version":1})");
}

TEST(RecordParserTest, DuplicateKeysUseTheFirstOccurrence) {
  Parsed p = ParseOne(DefaultFlatSchema(), R"({"id":"first","version":1,"id":"second"})");
  ASSERT_TRUE(p.ok) << p.bad.reason;
  EXPECT_EQ(p.record.id, "first");
  EXPECT_EQ(p.record.fields_json, R"({"id":"first","id":"second","version":1})");
}

TEST(RecordParserTest, VersionsAreIntegersOrRfc3339Micros) {
  const SchemaOptions schema = DefaultFlatSchema();
  EXPECT_EQ(ParseOne(schema, R"({"id":"x","version":-5})").record.version, -5);
  EXPECT_EQ(ParseOne(schema, R"({"id":"x","version":9223372036854775807})").record.version, INT64_MAX);
  EXPECT_EQ(ParseOne(schema, R"({"id":"x","version":"2026-11-22T14:05:00Z"})").record.version, 1795356300000000);
  EXPECT_EQ(ParseOne(schema, R"({"id":"x","version":"2026-11-22T14:05:00.123456+01:00"})").record.version,
            1795352700123456);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":9223372036854775808})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":1.5})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":"yesterday"})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":"17"})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":true})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x"})"), kReasonMissingVersion);
  EXPECT_EQ(Reject(schema, R"({"id":"x","version":null})"), kReasonMissingVersion);
}

TEST(RecordParserTest, EveryQuarantineReason) {
  const SchemaOptions ads = DefaultAdsSchema();
  const std::string ok_tail = R"("version":1,"ad_group_id":"g","status":"ACTIVE"})";
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad",)"), kReasonInvalidJson);
  EXPECT_EQ(Reject(ads, R"({"id":"a"} trailing)"), kReasonInvalidJson);
  EXPECT_EQ(Reject(ads, std::string("{\"id\":\"a\"}\0", 11)), kReasonInvalidJson);
  EXPECT_EQ(Reject(ads, "[1,2]"), kReasonNotObject);
  EXPECT_EQ(Reject(ads, "\"just a string\""), kReasonNotObject);
  EXPECT_EQ(Reject(ads, R"({"type":"ad",)" + ok_tail), kReasonMissingId);
  EXPECT_EQ(Reject(ads, R"({"id":null,"type":"ad",)" + ok_tail), kReasonMissingId);
  EXPECT_EQ(Reject(ads, R"({"id":17,"type":"ad",)" + ok_tail), kReasonBadId);
  EXPECT_EQ(Reject(ads, R"({"id":"","type":"ad",)" + ok_tail), kReasonBadId);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","version":"x","ad_group_id":"g"})"), kReasonInvalidVersion);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"banner",)" + ok_tail), kReasonUnknownType);
  EXPECT_EQ(Reject(ads, R"({"id":"a",)" + ok_tail), kReasonUnknownType);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":3,)" + ok_tail), kReasonUnknownType);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","version":1})"), kReasonMissingParent);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","version":1,"ad_group_id":""})"), kReasonMissingParent);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad_group","version":1,"campaign_id":5})"), kReasonMissingParent);
  EXPECT_EQ(Reject(ads, "{\"id\":\"a\xff\",\"type\":\"ad\"}"), kReasonInvalidUtf8);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","title":"\udc00",)" + ok_tail), kReasonInvalidUtf8);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","deleted":"yes",)" + ok_tail), kReasonBadDeleted);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","deleted":0,)" + ok_tail), kReasonBadDeleted);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","title":5,)" + ok_tail), kReasonTextNotString);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","title":["x"],)" + ok_tail), kReasonTextNotString);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","country":true,)" + ok_tail), kReasonBadKeyword);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","keywords":["x",null],)" + ok_tail), kReasonBadKeyword);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","keywords":{"x":1},)" + ok_tail), kReasonBadKeyword);
  EXPECT_EQ(Reject(ads, R"({"id":"a","type":"ad","keywords":[["x"]],)" + ok_tail), kReasonBadKeyword);

  SchemaOptions small = ads;
  small.max_record_bytes = 64;
  small.max_field_bytes = 10;
  EXPECT_EQ(Reject(small, std::string(R"({"id":"a","title":")") + std::string(100, 'x') + "\"}"),
            kReasonLineTooLong);
  EXPECT_EQ(Reject(small, R"({"id":"a","title":"abcdefghijk"})"), kReasonFieldTooLong);
  EXPECT_EQ(Reject(small, R"({"id":"a","n":[1,2,3,4,5,6]})"), kReasonFieldTooLong);
  // Exactly at the limits is fine.
  Parsed at_limit = ParseOne(small, R"({"id":"a","type":"campaign","version":1,"title":"abcdefghij"})");
  EXPECT_TRUE(at_limit.ok) << at_limit.bad.reason;
}

TEST(RecordParserTest, ReasonsCarryDetails) {
  const SchemaOptions ads = DefaultAdsSchema();
  EXPECT_EQ(ParseOne(ads, R"({"id":"a","type":"ad",)").bad.reason,
            "invalid JSON: Missing a name for object member. (column 23)");
  EXPECT_EQ(ParseOne(ads, std::string("{\"id\":\"a\"}\0", 11)).bad.reason, "invalid JSON: NUL byte (column 11)");
  EXPECT_EQ(ParseOne(ads, R"({"id":"a","type":"banner","version":1})").bad.reason, "unknown type: \"banner\"");
  EXPECT_EQ(ParseOne(ads, R"({"id":"a","type":"ad","version":1})").bad.reason, "missing parent: ad_group_id");
  EXPECT_EQ(ParseOne(ads, R"({"id":"a","type":"ad","version":1,"ad_group_id":"g","title":5})").bad.reason,
            "text field not a string: title");
  SchemaOptions small = ads;
  small.max_field_bytes = 3;
  EXPECT_EQ(ParseOne(small, R"({"id":"a","name":"abcd"})").bad.reason, "field too long: name (4 bytes > 3)");
}

TEST(RecordParserTest, DeepNestingIsRejectedNotACrash) {
  std::string deep = R"({"id":"a","version":1,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(Reject(DefaultFlatSchema(), deep), kReasonInvalidJson);
  std::string ok = R"({"id":"a","version":1,"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(ParseOne(DefaultFlatSchema(), ok).ok);
}

TEST(RecordParserTest, ExcerptIsTheFirst200BytesAsValidUtf8) {
  std::string line = "{\"id\":\xff" + std::string(300, 'z');
  Parsed p = ParseOne(DefaultFlatSchema(), line);
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.bad.reason, "invalid UTF-8");
  EXPECT_EQ(p.bad.excerpt, "{\"id\":\\xff" + std::string(193, 'z'));
}

TEST(RecordParserTest, TombstonesNeedNoParentAndNullMeansAbsent) {
  const SchemaOptions ads = DefaultAdsSchema();
  Parsed t = ParseOne(ads, R"({"id":"a","type":"ad","version":9,"deleted":true})");
  ASSERT_TRUE(t.ok) << t.bad.reason;
  EXPECT_TRUE(t.record.deleted);
  EXPECT_EQ(t.record.parent_id, "");
  EXPECT_FALSE(t.record.active);  // no status value

  Parsed n = ParseOne(ads, R"({"id":"a","type":"ad","version":9,"deleted":null,"ad_group_id":"g","title":null,)"
                           R"("status":"ACTIVE"})");
  ASSERT_TRUE(n.ok) << n.bad.reason;
  EXPECT_FALSE(n.record.deleted);
  EXPECT_TRUE(n.record.active);
  RecordParser parser(ads);
  EXPECT_EQ(n.record.field(parser.schema().FieldIndex("title")), "");
}

TEST(RecordParserTest, StatusDecidesActive) {
  const SchemaOptions ads = DefaultAdsSchema();
  auto active = [&](std::string_view status) {
    Parsed p = ParseOne(ads, std::string(R"({"id":"c","type":"campaign","version":1)") + std::string(status) + "}");
    EXPECT_TRUE(p.ok) << p.bad.reason;
    return p.record.active;
  };
  EXPECT_TRUE(active(R"(,"status":"ACTIVE")"));
  EXPECT_FALSE(active(R"(,"status":"PAUSED")"));
  EXPECT_FALSE(active(R"(,"status":"active")"));
  EXPECT_FALSE(active(R"(,"status":1)"));
  EXPECT_FALSE(active(""));
  // No status field configured (flat): always active.
  EXPECT_TRUE(ParseOne(DefaultFlatSchema(), R"({"id":"x","version":1,"status":"PAUSED"})").record.active);
}

TEST(RecordParserTest, SplitsLinesCrlfBlankAndUnterminated) {
  const SchemaOptions flat = DefaultFlatSchema();
  RecordParser parser(flat);
  std::vector<EntityRecord> records;
  std::vector<QuarantineEntry> bad;
  const std::string body =
      "\xEF\xBB\xBF{\"id\":\"a\",\"version\":1}\r\n"
      "\r\n"
      "   \t\n"
      "{\"id\":\"b\",\"version\":2}\n"
      "not json\r\n"
      "\n"
      "{\"id\":\"c\",\"version\":3}";
  EXPECT_EQ(parser.ParseObject("k", body, &records, &bad), 4u);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "a");
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[1].id, "b");
  EXPECT_EQ(records[1].line, 4u);
  EXPECT_EQ(records[2].id, "c");
  EXPECT_EQ(records[2].line, 7u);
  // CR stripped before hashing: CRLF and LF files give the same records.
  const std::string_view a_line = "{\"id\":\"a\",\"version\":1}";
  EXPECT_EQ(records[0].tiebreak, XXH3_64bits(a_line.data(), a_line.size()));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 5u);
  EXPECT_EQ(bad[0].excerpt, "not json");
  EXPECT_EQ(ReasonKind(bad[0].reason), kReasonInvalidJson);
}

TEST(RecordParserTest, NothingIsHardCodedToTheAdsSchema) {
  SchemaOptions s;
  s.id_field = "key";
  s.version_field = "rev";
  s.deleted_field = "removed";
  s.type_field = "kind";
  s.levels = {LevelOptions{.name = "brand", .status_field = "state", .active_values = {"on", "live"},
                           .inherit = {"brand_name"}},
              LevelOptions{.name = "product", .parent_field = "brand_key", .status_field = "", .active_values = {},
                           .inherit = {}}};
  s.text_fields = {"label"};
  s.keyword_fields = {"sku"};
  s.stored_fields = {"label"};

  Parsed brand = ParseOne(s, R"({"key":"b1","kind":"brand","rev":"2026-01-01T00:00:00Z","state":"live",)"
                             R"("brand_name":"Acme","id":"ignored"})");
  ASSERT_TRUE(brand.ok) << brand.bad.reason;
  EXPECT_EQ(brand.record.level, 0);
  EXPECT_EQ(brand.record.id, "b1");
  EXPECT_TRUE(brand.record.active);

  Parsed product = ParseOne(s, R"({"key":"p1","kind":"product","rev":4,"brand_key":"b1","removed":true,"sku":7})");
  ASSERT_TRUE(product.ok) << product.bad.reason;
  EXPECT_EQ(product.record.level, 1);
  EXPECT_EQ(product.record.parent_id, "b1");
  EXPECT_TRUE(product.record.deleted);
  EXPECT_TRUE(product.record.active);

  EXPECT_EQ(Reject(s, R"({"id":"p1","kind":"product","rev":4,"brand_key":"b1"})"), kReasonMissingId);
  EXPECT_EQ(Reject(s, R"({"key":"p1","kind":"product","version":4,"brand_key":"b1"})"), kReasonMissingVersion);
  EXPECT_EQ(Reject(s, R"({"key":"p1","type":"product","rev":4,"brand_key":"b1"})"), kReasonUnknownType);
  EXPECT_EQ(Reject(s, R"({"key":"p1","kind":"product","rev":4,"ad_group_id":"b1"})"), kReasonMissingParent);
  EXPECT_EQ(Reject(s, R"({"key":"p1","kind":"product","rev":4,"brand_key":"b1","removed":1})"),
            kReasonBadDeleted);
  EXPECT_EQ(Reject(s, R"({"key":"p1","kind":"product","rev":4,"brand_key":"b1","label":1})"),
            kReasonTextNotString);
  EXPECT_EQ(Reject(s, R"({"key":"p1","kind":"product","rev":4,"brand_key":"b1","sku":{}})"), kReasonBadKeyword);
  // "title" means nothing to this schema.
  EXPECT_TRUE(ParseOne(s, R"({"key":"p1","kind":"product","rev":4,"brand_key":"b1","title":1})").ok);
  // Type checks apply to the fields a level contributes: a brand's label is
  // never indexed (brands inherit only brand_name), so any type is fine.
  EXPECT_TRUE(ParseOne(s, R"({"key":"b","kind":"brand","rev":4,"label":1})").ok);
}

TEST(RecordParserTest, SeveralLevelsWithoutTypeFieldPlaceNothing) {
  SchemaOptions s = DefaultAdsSchema();
  s.type_field = "";
  EXPECT_EQ(Reject(s, R"({"id":"a","type":"ad","version":1,"ad_group_id":"g"})"), kReasonUnknownType);
  // One level without a type field: every record is that level.
  s.levels.resize(1);
  EXPECT_TRUE(ParseOne(s, R"({"id":"a","version":1,"status":"ACTIVE"})").ok);
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// Random lines around the fast path's edges: flat and nested values, every
// number form, escapes, control characters, repeated keys, whitespace,
// trailing bytes, values at the field limit.
std::string RandomLine(std::mt19937& rng) {
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  static const std::vector<std::string> keys = {
      "id", "version", "type", "deleted", "status", "title", "description", "url", "keywords", "campaign_id",
      "ad_group_id", "campaign_name", "country", "extra", "x", "\xc3\xa9t\xc3\xa9", "k\x01", "id"};
  static const std::vector<std::string> values = {
      R"("a1")", R"("")", R"("Red running shoes")", R"("caf\u00e9")", R"("line\nbreak")", R"("sl\/ash")",
      "\"ctl\x02char\"", "\"\xe6\x9d\xb1\xe4\xba\xac\"", R"("ad")", R"("ad_group")", R"("campaign")", R"("ACTIVE")",
      R"("PAUSED")", R"("2025-06-01T00:00:00Z")", R"("2025-13-01T00:00:00Z")", "0", "-0", "01", "7", "-12", "1.5",
      "1e3", "-0.0", "123456789012345678", "-123456789012345678", "1234567890123456789", "12345678901234567890",
      "-9223372036854775808", "true", "false", "null", "[]", R"(["shoes",42])", R"([true])", R"({"b":1,"a":2})",
      R"({})", "tru", "-", R"("0123456789012345678901234")"};
  auto space = [&] {
    std::string s;
    for (size_t n = pick(4) == 0 ? pick(3) : 0; n > 0; --n) s += " \t\r"[pick(3)];
    return s;
  };
  std::string line = space() + "{" + space();
  const size_t members = pick(9);
  for (size_t i = 0; i < members; ++i) {
    if (i > 0) line += "," + space();
    line += "\"" + keys[pick(keys.size())] + "\"" + space() + ":" + space() + values[pick(values.size())] + space();
  }
  line += "}" + space();
  switch (pick(25)) {
    case 0: line += "x"; break;
    case 1: line = line.substr(0, line.size() / 2); break;
    case 2: line = "[" + line + "]"; break;
    default: break;
  }
  return line;
}

// A plausible record of `schema` with the fields in a random order: the
// lines the fast path is for, with the odd one it is not.
std::string RandomRecord(std::mt19937& rng, bool typed) {
  std::vector<std::string> members = {R"("id":"a)" + std::to_string(rng() % 1000) + "\"",
                                      R"("version":)" + std::to_string(static_cast<int>(rng() % 2000) - 100)};
  if (typed) {
    const int level = static_cast<int>(rng() % 3);
    members.push_back(level == 0 ? R"("type":"campaign")" : level == 1 ? R"("type":"ad_group")" : R"("type":"ad")");
    if (level == 1) members.push_back(R"("campaign_id":"c1")");
    if (level == 2) members.push_back(R"("ad_group_id":"g)" + std::to_string(rng() % 9) + "\"");
  }
  if (rng() % 2) members.push_back(rng() % 2 ? R"("status":"ACTIVE")" : R"("status":"PAUSED")");
  if (rng() % 3) members.push_back(rng() % 5 ? R"("deleted":false)" : R"("deleted":true)");
  if (rng() % 4) members.push_back(R"("title":"Red running shoes )" + std::to_string(rng() % 50) + "\"");
  if (rng() % 4) members.push_back(R"("description":"light and fast, size )" + std::to_string(rng() % 50) + "\"");
  if (rng() % 3) members.push_back(R"("url":"https://x.test/)" + std::to_string(rng() % 50) + "\"");
  if (rng() % 3) members.push_back(R"("country":")" + std::string(rng() % 2 ? "DE" : "FR") + "\"");
  if (rng() % 3) members.push_back(R"("keywords":)" + std::string(rng() % 2 ? R"("shoes")" : "42"));
  if (rng() % 5 == 0) members.push_back(R"("bid_micros":)" + std::to_string(rng()));
  if (rng() % 20 == 0) members.push_back(R"("title":"again")");
  std::shuffle(members.begin(), members.end(), rng);
  std::string line = "{";
  for (size_t i = 0; i < members.size(); ++i) line += (i > 0 ? "," : "") + members[i];
  return line + "}";
}

std::string Outcome(bool ok, const EntityRecord& r, const QuarantineEntry& bad) {
  if (!ok) return "bad: " + bad.reason;
  std::string s = std::to_string(r.level) + "/" + r.id + " p=" + r.parent_id + " v=" + std::to_string(r.version) +
                  (r.deleted ? " D" : "") + (r.active ? " A" : "") + " t=" + std::to_string(r.tiebreak) + " " +
                  r.fields_json + " spans";
  for (const ValueSpan& v : r.fields) s += " " + std::to_string(v.offset) + "+" + std::to_string(v.length);
  return s;
}

// The fast path (a flat object of plain values, no escapes) accepts only
// what the general one accepts, and makes the very same record of it.
TEST(RecordParserTest, TheFastPathAgreesWithTheGeneralOne) {
  SchemaOptions narrow = DefaultAdsSchema();
  narrow.max_field_bytes = 21;  // some values over it
  const std::vector<std::pair<SchemaOptions, bool>> schemas = {
      {DefaultAdsSchema(), true}, {DefaultFlatSchema(), false}, {narrow, true}};
  std::mt19937 rng(11);
  for (const auto& [schema, typed] : schemas) {
    RecordParser fast(schema), general(schema);
    general.UseGeneralPathOnly();
    size_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::string line = i % 2 == 0 ? RandomLine(rng) : RandomRecord(rng, typed);
      EntityRecord a, b;
      QuarantineEntry qa, qb;
      const bool ok_a = fast.ParseLine("obj", 1, line, &a, &qa);
      const bool ok_b = general.ParseLine("obj", 1, line, &b, &qb);
      ASSERT_EQ(Outcome(ok_a, a, qa), Outcome(ok_b, b, qb)) << line;
      accepted += ok_a;
    }
    EXPECT_GT(fast.fast_path_lines(), 2000u) << "the fast path is taken";
    EXPECT_GT(accepted, fast.fast_path_lines()) << "and the general path still takes some";
    EXPECT_EQ(general.fast_path_lines(), 0u);
  }
}

// The fast path reuses the previous line's key order when a line names the
// same keys in the same order: lines that differ from the one before only
// in order, in one key of the same length, in a repeated key or in one key
// more or less must still come out as the general path makes them.
// Parses `lines` twice over, in order, with one parser on the fast path and
// one on the general path only, expecting the same outcome for each line;
// returns the lines the fast path took.
uint64_t FastPathLinesAgreeingWithTheGeneralPath(const SchemaOptions& schema, const std::vector<std::string>& lines) {
  RecordParser fast(schema), general(schema);
  general.UseGeneralPathOnly();
  for (int round = 0; round < 2; ++round) {
    for (const std::string& line : lines) {
      EntityRecord a, b;
      QuarantineEntry qa, qb;
      const bool ok_a = fast.ParseLine("obj", 1, line, &a, &qa);
      const bool ok_b = general.ParseLine("obj", 1, line, &b, &qb);
      EXPECT_EQ(Outcome(ok_a, a, qa), Outcome(ok_b, b, qb)) << line;
    }
  }
  return fast.fast_path_lines();
}

TEST(RecordParserTest, TheFastPathReusesAKeyOrderOnlyForTheSameKeys) {
  const std::vector<std::string> lines = {
      R"({"id":"a","version":1,"title":"x","bid_micros":5,"deleted":false})",
      R"({"id":"b","version":2,"title":"y","bid_micros":6,"deleted":false})",   // same keys: reused
      R"({"version":3,"id":"c","title":"z","deleted":true,"bid_micros":7})",    // same keys, other order
      R"({"version":3,"id":"d","title":"z","deleted":true,"bid_micros":7})",    // that order again
      R"({"version":3,"id":"e","titlf":"z","deleted":true,"bid_micros":7})",    // one key, same length
      R"({"version":3,"id":"f","titlf":"z","deleted":true,"version":7})",       // a repeated key
      R"({"version":3,"id":"g","titlf":"z","deleted":true,"bid_micros":7})",    // after the repeat
      R"({"version":3,"id":"h","titlf":"z","deleted":true})",                   // one key fewer
      R"({"version":3,"id":"i","titlf":"z","deleted":true,"bid_micros":7,"x":1})",  // one more
      R"({"version":3,"id":"j","":"z","deleted":true,"bid_micros":7,"x":1})",   // an empty key
      R"({"version":3,"id":"k","":"z","deleted":true,"bid_micros":7,"x":1})",
      R"({"id":"l","version":3})",
      R"({"id":"m","version":3,"id":"n"})",
  };
  EXPECT_GT(FastPathLinesAgreeingWithTheGeneralPath(DefaultFlatSchema(), lines), 15u);
}

// The fast path maps the schema's names to members once per key order; a
// line it gives up on halfway (here: a value over max_field_bytes, after
// the id and version were found) must not leave the next line with the
// same keys a mapping cut short (it would lose "title" and "url").
TEST(RecordParserTest, TheFastPathMapsNamesAgainAfterALineItGaveUpOn) {
  SchemaOptions s = DefaultFlatSchema();
  s.version_field = "rev";  // sorts before the long member, as "id" does
  s.max_field_bytes = 16;
  const std::vector<std::string> lines = {
      R"({"id":"a","rev":1,"title":"x","url":"u"})",
      R"({"id":"b","rev":1,"s":"a value longer than sixteen bytes","title":"x","url":"u"})",  // new keys
      R"({"id":"c","rev":1,"s":"short","title":"x","url":"u"})",  // the same keys
      R"({"id":"d","rev":2,"s":"short","title":"y","url":"v"})",
      R"({"id":"e","rev":1,"title":"x","url":"u"})",
      R"({"id":"f","rev":1,"title":"x","url":"u"})",
  };
  EXPECT_GE(FastPathLinesAgreeingWithTheGeneralPath(s, lines), 10u);
}

// What a record says through field(), for comparing an owned record with
// a packed one (whose json() is not a JSON object).
std::string FieldsOf(const EntityRecord& r, size_t catalog) {
  std::string s = std::to_string(r.level) + "/" + r.id + " p=" + r.parent_id + " v=" + std::to_string(r.version) +
                  (r.deleted ? " D" : "") + (r.active ? " A" : "") + (r.plain ? " P" : "") +
                  " t=" + std::to_string(r.tiebreak) + " " + r.source + ":" + std::to_string(r.line);
  for (size_t f = 0; f < catalog + 2; ++f) {
    EXPECT_EQ(r.has_field(f), !r.field(f).empty()) << f;
    if (r.has_field(f)) {
      EXPECT_LT(f, r.field_limit());
      s += " " + std::to_string(f) + "=" + std::string(r.field(f));
    }
  }
  return s;
}

// Records parsed into an arena (RecordParser::SetArena) read, field by
// field, as the same lines parsed into records of their own, on either
// path (the fast one packs values from the line itself); so do copies of
// them, which own their fields.
TEST(RecordParserTest, TheRecordsOfAnArenaReadAsTheOwnedOnes) {
  std::mt19937 rng(5);
  SchemaOptions narrow = DefaultAdsSchema();
  narrow.max_field_bytes = 21;  // some values over it: the fast path checks them without a canonical text
  for (const auto& [schema, typed] : {std::pair{DefaultAdsSchema(), true}, std::pair{DefaultFlatSchema(), false},
                                      std::pair{narrow, true}}) {
    RecordParser owned(schema), packed(schema), packed_general(schema);
    packed_general.UseGeneralPathOnly();
    RecordArena arena;
    packed.SetArena(&arena);
    packed_general.SetArena(&arena);
    const size_t catalog = owned.schema().fields.size();
    std::vector<EntityRecord> kept;  // outlive the lines parsed after them
    std::vector<std::string> want;
    size_t accepted = 0;
    for (uint32_t i = 0; i < 5000; ++i) {
      const std::string line = i % 3 == 0 ? RandomLine(rng) : RandomRecord(rng, typed);
      EntityRecord a, b, c;
      QuarantineEntry qa, qb, qc;
      const bool ok = owned.ParseLine("obj", i, line, &a, &qa);
      ASSERT_EQ(packed.ParseLine("obj", i, line, &b, &qb), ok) << line;
      ASSERT_EQ(packed_general.ParseLine("obj", i, line, &c, &qc), ok) << line;
      if (!ok) continue;
      ++accepted;
      EXPECT_FALSE(a.packed());
      EXPECT_TRUE(b.packed() && c.packed());
      EXPECT_TRUE(b.fields_json.empty() && b.fields.empty());
      const std::string fields = FieldsOf(a, catalog);
      EXPECT_EQ(FieldsOf(b, catalog), fields) << line;
      EXPECT_EQ(FieldsOf(c, catalog), fields) << line;
      const EntityRecord copy = b;
      EXPECT_FALSE(copy.packed());
      EXPECT_EQ(FieldsOf(copy, catalog), fields) << line;
      if (i % 10 == 0) {
        kept.push_back(std::move(c));
        want.push_back(fields);
      }
    }
    EXPECT_GT(accepted, 500u);
    EXPECT_GT(packed.fast_path_lines(), 500u);
    EXPECT_GT(arena.reserved(), 0u);
    for (size_t k = 0; k < kept.size(); ++k) EXPECT_EQ(FieldsOf(kept[k], catalog), want[k]);
  }
}

// A catalog of more than 64 fields (more than a packed entry's presence
// bits can name) is parsed into records of their own, arena or not.
TEST(RecordParserTest, AWideCatalogIsNeverPacked) {
  SchemaOptions s = DefaultFlatSchema();
  for (int i = 0; i < 70; ++i) s.stored_fields.push_back("f" + std::to_string(i));
  RecordParser parser(s);
  ASSERT_GT(parser.schema().fields.size(), 64u);
  RecordArena arena;
  parser.SetArena(&arena);
  Parsed p;
  p.ok = parser.ParseLine("obj", 1, R"({"id":"a","version":1,"f69":"x"})", &p.record, &p.bad);
  ASSERT_TRUE(p.ok) << p.bad.reason;
  EXPECT_FALSE(p.record.packed());
  EXPECT_EQ(arena.reserved(), 0u);
}

}  // namespace
}  // namespace freshet
