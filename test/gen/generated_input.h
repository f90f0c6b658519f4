// Test-side reader of what `freshet gen` wrote: lists a MemoryStore,
// decompresses .lz4 objects and classifies every line as a well-formed
// record or a malformed one, independently of the generator's code.
#pragma once

#include <lz4frame.h>
#include <rapidjson/document.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "freshet/time.h"
#include "storage/blocking_store.h"
#include "storage/memory_store.h"

namespace freshet::gen_test {

// Decodes one LZ4 frame; nullopt when it is not a complete, valid frame.
inline std::optional<std::string> DecompressLz4Frame(std::string_view frame) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  size_t pos = 0;
  size_t hint = 1;
  while (pos < frame.size() && hint != 0) {
    size_t src = frame.size() - pos;
    size_t dst = sizeof buf;
    hint = LZ4F_decompress(dctx, buf, &dst, frame.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) break;
    out.append(buf, dst);
    pos += src;
  }
  LZ4F_freeDecompressionContext(dctx);
  if (LZ4F_isError(hint) || hint != 0 || pos != frame.size()) return std::nullopt;
  return out;
}

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Every object in the store, key -> decoded body (LZ4 frames decoded).
inline std::map<std::string, std::string> ReadAll(MemoryStore& store) {
  std::map<std::string, std::string> out;
  for (const std::string& key : store.Keys()) {
    auto got = GetSync(store, key);
    EXPECT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    if (!got.ok()) continue;
    std::string body = std::move(got->body);
    if (EndsWith(key, ".lz4")) {
      auto plain = DecompressLz4Frame(body);
      EXPECT_TRUE(plain.has_value()) << key << " is not a valid LZ4 frame";
      body = plain.value_or("");
    }
    out.emplace(key, std::move(body));
  }
  return out;
}

inline std::vector<std::string_view> SplitLines(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    EXPECT_NE(nl, std::string_view::npos) << "object does not end with a newline";
    if (nl == std::string_view::npos) nl = body.size();
    lines.push_back(body.substr(0, nl));
    body.remove_prefix(std::min(body.size(), nl + 1));
  }
  return lines;
}

// A well-formed record as freshet's schema reads it.
struct Record {
  std::string type;  // "" in flat mode
  std::string id;
  std::string parent;  // campaign_id / ad_group_id ("" for campaigns)
  int64_t version = 0;
  std::string status;
  bool deleted = false;
  std::string line;
};

// Nullopt for a malformed line: bad JSON or UTF-8, not an object, missing
// or non-string id, version neither integer nor RFC 3339, deleted not bool.
inline std::optional<Record> ParseRecord(std::string_view line) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  Record r;
  r.line = std::string(line);
  auto id = d.FindMember("id");
  if (id == d.MemberEnd() || !id->value.IsString() || id->value.GetStringLength() == 0) return std::nullopt;
  r.id = id->value.GetString();
  auto version = d.FindMember("version");
  if (version == d.MemberEnd()) return std::nullopt;
  if (version->value.IsInt64()) {
    r.version = version->value.GetInt64();
  } else if (version->value.IsString()) {
    auto t = ParseRfc3339(version->value.GetString());
    if (!t.ok()) return std::nullopt;
    r.version = ToUnixMillis(*t);
  } else {
    return std::nullopt;
  }
  auto deleted = d.FindMember("deleted");
  if (deleted != d.MemberEnd()) {
    if (!deleted->value.IsBool()) return std::nullopt;
    r.deleted = deleted->value.GetBool();
  }
  if (auto m = d.FindMember("type"); m != d.MemberEnd() && m->value.IsString()) r.type = m->value.GetString();
  if (auto m = d.FindMember("status"); m != d.MemberEnd() && m->value.IsString()) r.status = m->value.GetString();
  for (const char* parent : {"campaign_id", "ad_group_id"}) {
    if (r.type == "" && std::string_view(parent) == "campaign_id") continue;  // flat: a keyword, not a parent
    if (auto m = d.FindMember(parent); m != d.MemberEnd() && m->value.IsString()) r.parent = m->value.GetString();
  }
  return r;
}

}  // namespace freshet::gen_test
