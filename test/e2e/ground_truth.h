// The brute-force oracle: what `freshet query` must answer, computed
// straight from the generated input objects, sharing nothing with the
// daemon but the tokenizer (the one function that defines a token).
//
// Scan: every object under the source directory's `updates/` (partitions
// up to the cut's watermark) and `snapshots/` (snapshots up to the cut's
// base snapshot); names starting with '_' or '.' (markers, temp files) and
// empty objects are skipped; LZ4 frames (by suffix or magic) are
// decompressed. Each line is parsed strictly (rapidjson, UTF-8 validated):
// a line that does not parse, is not an object, lacks a string id or an
// integer version, has a non-boolean `deleted`, (hierarchy) an unknown
// `type` or a live child without its parent's id, or a text field that is
// not a string / a keyword field that is not a string, number or array of
// those, is skipped. JSON null counts as absent, as in the daemon's record
// parser (build/record_parser.h). The newest version per (type, id) wins.
//
// Documents: hierarchy — each ad joined with its ad group and campaign,
// servable only if all three exist, are not deleted and have status ACTIVE;
// the ad inherits campaign_name/advertiser/country from its campaign and
// campaign_id/ad_group_name/bid_micros from its ad group (nearest wins).
// Flat — every record not deleted.
//
// Query semantics (include/freshet/reader.h): a bare word matches when each
// of its tokens occurs in some text field; field:value on a keyword field
// matches the exact value (array elements each), on a text field when each
// token of the value occurs in that field; clauses AND-ed, OR-ed with any.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace freshet::e2e {

// The analysed fields, spelled out here rather than taken from the
// daemon's DefaultAdsSchema()/DefaultFlatSchema(), so that a change there
// shows up as a test failure.
struct OracleSchema {
  bool flat = false;
  std::vector<std::string> text_fields;
  std::vector<std::string> keyword_fields;

  static OracleSchema Ads();
  static OracleSchema Flat();
  bool IsText(const std::string& field) const;
  bool IsKeyword(const std::string& field) const;
};

// Which input counts: what the sink says it has committed.
struct InputCut {
  std::optional<int64_t> base_snapshot;  // Unix seconds; nullopt = no snapshot
  std::optional<int64_t> watermark;      // Unix seconds; nullopt = no partition
};

struct ScanStats {
  uint64_t objects = 0;        // objects read (after the cut), empty ones included
  uint64_t empty_objects = 0;
  uint64_t lz4_objects = 0;
  uint64_t corrupt_objects = 0;  // LZ4 frames that did not decode
  uint64_t skipped_names = 0;    // markers and other '_' / '.' names
  uint64_t partitions = 0;       // update partitions read
  uint64_t lines = 0;            // non-blank lines
  uint64_t bad_lines = 0;        // skipped by the strict parse
  uint64_t records = 0;          // well-formed records (duplicates included)
  uint64_t version_ties = 0;     // same (type, id, version) with different bytes: must stay 0
};

struct OracleDoc {
  std::string id;
  std::map<std::string, std::set<std::string>> tokens;    // text field -> its tokens
  std::map<std::string, std::set<std::string>> keywords;  // keyword field -> exact values
};

class GroundTruth {
 public:
  static ::testing::AssertionResult Scan(const std::string& source_dir, const OracleSchema& schema,
                                         const InputCut& cut, GroundTruth* out);

  // The matching ids, ascending by bytes. Clauses as on the command line.
  // REQUIRES: every field named is one of the schema's.
  std::vector<std::string> Match(const std::vector<std::string>& clauses, bool any) const;

  const std::vector<OracleDoc>& docs() const { return docs_; }  // servable, sorted by id
  const ScanStats& stats() const { return stats_; }
  const OracleSchema& schema() const { return schema_; }

  // Raw material for queries, from every well-formed record read (any
  // version, servable or not), sorted and unique:
  // text field -> whitespace-separated words as written (case and
  // punctuation kept); keyword field -> its values.
  const std::map<std::string, std::vector<std::string>>& text_words() const { return text_words_; }
  const std::map<std::string, std::vector<std::string>>& keyword_values() const { return keyword_values_; }

 private:
  bool MatchClause(const OracleDoc& doc, const std::string& clause) const;

  OracleSchema schema_;
  ScanStats stats_;
  std::vector<OracleDoc> docs_;
  std::map<std::string, std::vector<std::string>> text_words_;
  std::map<std::string, std::vector<std::string>> keyword_values_;
};

// Tokenize() as a set; empty on invalid UTF-8.
std::set<std::string> TokenSet(const std::string& text);

}  // namespace freshet::e2e
