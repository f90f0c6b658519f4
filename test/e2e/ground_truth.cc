#include "e2e/ground_truth.h"

#include <lz4frame.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "e2e/child_process.h"
#include "index/tokenizer.h"

namespace freshet::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr uint64_t kMaxRecordBytes = 1024 * 1024;  // SchemaOptions::max_record_bytes default
constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag;

// One kept record: its identity, version and the parsed object.
struct Record {
  std::string type;  // "" in the flat schema
  std::string id;
  int64_t version = 0;
  bool deleted = false;
  std::string line;  // the raw line, to tell true duplicates from ties
  std::shared_ptr<rapidjson::Document> doc;
};

// Decompresses every LZ4 frame in `in`; false when a frame is truncated or
// corrupt (the daemon quarantines such an object whole).
bool DecompressLz4(const std::string& in, std::string* out) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return false;
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(ctx, &LZ4F_freeDecompressionContext);
  std::string buf(256 * 1024, '\0');
  size_t pos = 0;
  for (;;) {
    size_t src = in.size() - pos;
    size_t dst = buf.size();
    size_t hint = LZ4F_decompress(ctx, buf.data(), &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) return false;
    out->append(buf.data(), dst);
    pos += src;
    if (pos == in.size()) {
      if (hint == 0) return true;  // the last frame ended cleanly
      if (dst == 0) return false;  // wants input that is not there: truncated
    } else if (src == 0 && dst == 0) {
      return false;
    }
  }
}

bool HasLz4Magic(const std::string& bytes) {
  return bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0x04 &&
         static_cast<unsigned char>(bytes[1]) == 0x22 && static_cast<unsigned char>(bytes[2]) == 0x4D &&
         static_cast<unsigned char>(bytes[3]) == 0x18;
}

// "2026/01/01/00/35/part-00001.ndjson" (after the prefix) -> Unix seconds
// of the partition folder (layout %Y/%m/%d/%H/%M).
std::optional<int64_t> FolderTime(const std::string& rest) {
  int y, mo, d, h, mi, n = 0;
  if (std::sscanf(rest.c_str(), "%4d/%2d/%2d/%2d/%2d/%n", &y, &mo, &d, &h, &mi, &n) != 5 || n == 0) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<int64_t>(::timegm(&tm));
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Keyword values of one JSON value: strings as is, integers as their JSON
// text, arrays element by element.
void KeywordValues(const rapidjson::Value& v, std::set<std::string>* out) {
  if (v.IsString()) {
    out->emplace(v.GetString(), v.GetStringLength());
  } else if (v.IsInt64()) {
    out->insert(std::to_string(v.GetInt64()));
  } else if (v.IsUint64()) {
    out->insert(std::to_string(v.GetUint64()));
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) KeywordValues(e, out);
  }
}

bool IsActive(const Record& r) {
  auto it = r.doc->FindMember("status");
  return it != r.doc->MemberEnd() && it->value.IsString() && std::string_view(it->value.GetString()) == "ACTIVE";
}

std::optional<std::string> StringField(const Record& r, const char* field) {
  auto it = r.doc->FindMember(field);
  if (it == r.doc->MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

OracleSchema OracleSchema::Ads() {
  return OracleSchema{.flat = false,
                      .text_fields = {"title", "description", "campaign_name", "ad_group_name"},
                      .keyword_fields = {"campaign_id", "ad_group_id", "country", "advertiser", "keywords"}};
}

OracleSchema OracleSchema::Flat() {
  return OracleSchema{.flat = true,
                      .text_fields = {"title", "description"},
                      .keyword_fields = {"country", "campaign_id", "keywords"}};
}

bool OracleSchema::IsText(const std::string& field) const {
  return std::find(text_fields.begin(), text_fields.end(), field) != text_fields.end();
}
bool OracleSchema::IsKeyword(const std::string& field) const {
  return std::find(keyword_fields.begin(), keyword_fields.end(), field) != keyword_fields.end();
}

std::set<std::string> TokenSet(const std::string& text) {
  auto tokens = Tokenize(text);
  if (!tokens.ok()) return {};
  return std::set<std::string>(tokens->begin(), tokens->end());
}

AssertionResult GroundTruth::Scan(const std::string& source_dir, const OracleSchema& schema, const InputCut& cut,
                                  GroundTruth* out) {
  *out = GroundTruth();
  out->schema_ = schema;
  ScanStats& stats = out->stats_;

  // 1. The objects that count, in a fixed order.
  std::vector<std::string> keys;
  std::set<int64_t> partitions;
  std::error_code ec;
  if (!fs::is_directory(source_dir, ec)) return AssertionFailure() << source_dir << ": not a directory";
  for (auto it = fs::recursive_directory_iterator(source_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string key = fs::relative(it->path(), source_dir).string();
    std::string name = it->path().filename().string();
    if (name.starts_with("_") || name.starts_with(".")) {
      ++stats.skipped_names;
      continue;
    }
    for (const auto& [prefix, limit] :
         {std::pair{std::string("updates/"), cut.watermark}, std::pair{std::string("snapshots/"), cut.base_snapshot}}) {
      if (!key.starts_with(prefix)) continue;
      std::optional<int64_t> t = FolderTime(key.substr(prefix.size()));
      if (!t) return AssertionFailure() << "source object outside the layout: " << key;
      if (!limit || *t > *limit) continue;
      keys.push_back(key);
      if (prefix == "updates/") partitions.insert(*t);
    }
  }
  if (ec) return AssertionFailure() << "listing " << source_dir << ": " << ec.message();
  std::sort(keys.begin(), keys.end());
  stats.partitions = partitions.size();

  // 2. Newest record per (type, id).
  std::map<std::pair<std::string, std::string>, Record> newest;
  std::map<std::string, std::set<std::string>> words, values;
  for (const std::string& key : keys) {
    ++stats.objects;
    std::string bytes = ReadFileOrEmpty(source_dir + "/" + key);
    if (bytes.empty()) {
      ++stats.empty_objects;
      continue;
    }
    if (key.ends_with(".lz4") || HasLz4Magic(bytes)) {
      ++stats.lz4_objects;
      std::string plain;
      if (!DecompressLz4(bytes, &plain)) {
        ++stats.corrupt_objects;
        continue;
      }
      bytes = std::move(plain);
    }
    size_t start = 0;
    while (start < bytes.size()) {
      size_t end = bytes.find('\n', start);
      if (end == std::string::npos) end = bytes.size();
      std::string line = bytes.substr(start, end - start);
      start = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      ++stats.lines;
      auto doc = std::make_shared<rapidjson::Document>();
      doc->Parse<kParseFlags>(line.data(), line.size());
      Record r;
      bool ok = line.size() <= kMaxRecordBytes && !doc->HasParseError() && doc->IsObject();
      if (ok) {
        auto id = doc->FindMember("id");
        auto version = doc->FindMember("version");
        auto deleted = doc->FindMember("deleted");
        auto type = doc->FindMember("type");
        // JSON null counts as absent (build/record_parser.h); a type
        // mismatch makes the whole line bad.
        auto present = [&](auto it) { return it != doc->MemberEnd() && !it->value.IsNull(); };
        ok = present(id) && id->value.IsString() && id->value.GetStringLength() > 0 && present(version) &&
             version->value.IsInt64() && (!present(deleted) || deleted->value.IsBool());
        if (ok && !schema.flat) {
          ok = present(type) && type->value.IsString();
          if (ok) {
            r.type = type->value.GetString();
            ok = r.type == "campaign" || r.type == "ad_group" || r.type == "ad";
          }
        }
        if (ok) {
          r.id = id->value.GetString();
          r.version = version->value.GetInt64();
          r.deleted = present(deleted) && deleted->value.GetBool();
        }
        if (ok && !schema.flat && !r.deleted && r.type != "campaign") {
          // A live child needs its parent's id.
          auto parent = doc->FindMember(r.type == "ad" ? "ad_group_id" : "campaign_id");
          ok = present(parent) && parent->value.IsString() && parent->value.GetStringLength() > 0;
        }
        for (const std::string& f : schema.text_fields) {
          auto m = doc->FindMember(f.c_str());
          if (ok && present(m)) ok = m->value.IsString();
        }
        for (const std::string& f : schema.keyword_fields) {
          auto m = doc->FindMember(f.c_str());
          if (!ok || !present(m)) continue;
          ok = m->value.IsString() || m->value.IsNumber() || m->value.IsArray();
          if (ok && m->value.IsArray()) {
            for (const auto& e : m->value.GetArray()) ok = ok && (e.IsString() || e.IsNumber());
          }
        }
      }
      if (!ok) {
        ++stats.bad_lines;
        continue;
      }
      ++stats.records;
      r.line = std::move(line);
      r.doc = std::move(doc);
      for (const std::string& f : schema.text_fields) {
        auto m = r.doc->FindMember(f.c_str());
        if (m == r.doc->MemberEnd() || !m->value.IsString()) continue;
        std::string text = m->value.GetString();
        size_t p = 0;
        while (p < text.size()) {
          size_t q = text.find_first_of(" \t", p);
          if (q == std::string::npos) q = text.size();
          if (q > p) words[f].insert(text.substr(p, q - p));
          p = q + 1;
        }
      }
      for (const std::string& f : schema.keyword_fields) {
        auto m = r.doc->FindMember(f.c_str());
        if (m != r.doc->MemberEnd()) KeywordValues(m->value, &values[f]);
      }
      auto slot = std::make_pair(r.type, r.id);
      auto it = newest.find(slot);
      if (it == newest.end()) {
        newest.emplace(slot, std::move(r));
      } else if (r.version > it->second.version) {
        it->second = std::move(r);
      } else if (r.version == it->second.version && r.line != it->second.line) {
        ++stats.version_ties;
      }
    }
  }
  for (auto& [f, set] : words) out->text_words_[f].assign(set.begin(), set.end());
  for (auto& [f, set] : values) out->keyword_values_[f].assign(set.begin(), set.end());

  // 3. Join and servability.
  auto find = [&](const char* type, const std::optional<std::string>& id) -> const Record* {
    if (!id) return nullptr;
    auto it = newest.find({type, *id});
    return it == newest.end() ? nullptr : &it->second;
  };
  for (const auto& [slot, ad] : newest) {
    if (!schema.flat && slot.first != "ad") continue;
    if (ad.deleted) continue;
    // Nearest first: the ad, then its ad group, then its campaign.
    std::vector<std::pair<const Record*, std::vector<std::string>>> chain;
    if (schema.flat) {
      chain.push_back({&ad, {}});
    } else {
      const Record* group = find("ad_group", StringField(ad, "ad_group_id"));
      const Record* campaign = group ? find("campaign", StringField(*group, "campaign_id")) : nullptr;
      if (!group || !campaign || group->deleted || campaign->deleted) continue;
      if (!IsActive(ad) || !IsActive(*group) || !IsActive(*campaign)) continue;
      chain.push_back({&ad, {}});
      chain.push_back({group, {"campaign_id", "ad_group_name", "bid_micros"}});
      chain.push_back({campaign, {"campaign_name", "advertiser", "country"}});
    }
    std::map<std::string, const rapidjson::Value*> fields;
    for (const auto& [rec, inherit] : chain) {
      for (const auto& m : rec->doc->GetObject()) {
        std::string name(m.name.GetString(), m.name.GetStringLength());
        bool own = rec == &ad;
        if (!own && std::find(inherit.begin(), inherit.end(), name) == inherit.end()) continue;
        fields.emplace(name, &m.value);  // emplace keeps the nearest
      }
    }
    OracleDoc doc;
    doc.id = ad.id;
    for (const std::string& f : schema.text_fields) {
      auto it = fields.find(f);
      if (it != fields.end() && it->second->IsString()) doc.tokens[f] = TokenSet(it->second->GetString());
    }
    for (const std::string& f : schema.keyword_fields) {
      auto it = fields.find(f);
      if (it != fields.end()) KeywordValues(*it->second, &doc.keywords[f]);
    }
    out->docs_.push_back(std::move(doc));
  }
  std::sort(out->docs_.begin(), out->docs_.end(), [](const OracleDoc& a, const OracleDoc& b) { return a.id < b.id; });
  return AssertionSuccess();
}

bool GroundTruth::MatchClause(const OracleDoc& doc, const std::string& clause) const {
  const size_t colon = clause.find(':');
  if (colon == std::string::npos) {
    std::set<std::string> tokens = TokenSet(clause);
    if (tokens.empty()) return false;
    for (const std::string& t : tokens) {
      bool found = false;
      for (const auto& [field, set] : doc.tokens) found = found || set.count(t);
      if (!found) return false;
    }
    return true;
  }
  const std::string field = clause.substr(0, colon);
  const std::string value = clause.substr(colon + 1);
  if (schema_.IsKeyword(field)) {
    auto it = doc.keywords.find(field);
    return it != doc.keywords.end() && it->second.count(value);
  }
  if (!schema_.IsText(field)) {
    ADD_FAILURE() << "oracle: query names unknown field " << field;
    return false;
  }
  std::set<std::string> tokens = TokenSet(value);
  auto it = doc.tokens.find(field);
  if (tokens.empty() || it == doc.tokens.end()) return false;
  return std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) { return it->second.count(t) > 0; });
}

std::vector<std::string> GroundTruth::Match(const std::vector<std::string>& clauses, bool any) const {
  std::vector<std::string> out;
  for (const OracleDoc& doc : docs_) {
    bool match = !any;
    for (const std::string& c : clauses) {
      bool m = MatchClause(doc, c);
      if (any && m) {
        match = true;
        break;
      }
      if (!any && !m) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(doc.id);
  }
  SortUnique(&out);
  return out;
}

}  // namespace freshet::e2e
