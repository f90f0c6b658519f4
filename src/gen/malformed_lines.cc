#include "gen/malformed_lines.h"

#include <cstdio>
#include <iterator>

#include "gen/json_line_writer.h"

namespace freshet::gen {

const char* MalformedKindName(MalformedKind kind) {
  switch (kind) {
    case MalformedKind::kTruncatedJson: return "truncated_json";
    case MalformedKind::kMissingId: return "missing_id";
    case MalformedKind::kInvalidUtf8: return "invalid_utf8";
    case MalformedKind::kWrongVersionType: return "wrong_version_type";
    case MalformedKind::kWrongIdType: return "wrong_id_type";
    case MalformedKind::kNotAnObject: return "not_an_object";
    case MalformedKind::kWrongDeletedType: return "wrong_deleted_type";
  }
  return "unknown";
}

MalformedKind AppendMalformedLine(SeededRandom& rng, std::string_view good_line, uint64_t serial, bool flat,
                                  int64_t version, std::string* out) {
  auto kind = static_cast<MalformedKind>(rng.Below(kMalformedKindCount));
  if (kind == MalformedKind::kTruncatedJson) {
    // Any proper prefix of an object's text is invalid JSON.
    size_t cut = 1 + rng.Below(good_line.size() - 1);
    out->append(good_line.substr(0, cut));
    out->push_back('\n');
    return kind;
  }
  if (kind == MalformedKind::kNotAnObject) {
    static constexpr std::string_view kLines[] = {"[\"ad\",1,2]", "\"just a string\"", "42", "null",
                                                  "[]", "true"};
    out->append(kLines[rng.Below(std::size(kLines))]);
    out->push_back('\n');
    return kind;
  }

  char id[16];
  std::snprintf(id, sizeof id, "x%08llu", static_cast<unsigned long long>(serial % 100000000));
  JsonLineWriter w(out);
  w.Begin();
  if (!flat) w.String("type", "ad");
  switch (kind) {
    case MalformedKind::kMissingId: break;
    case MalformedKind::kWrongIdType: {
      static constexpr std::string_view kIds[] = {"12345", "null", "[\"a1\"]", "{\"id\":\"a1\"}", "true"};
      w.Raw("id", kIds[rng.Below(std::size(kIds))]);
      break;
    }
    default: w.String("id", id); break;
  }
  // Parents that never exist (numbering starts at 1), so even a too-lenient
  // reader could not attach these to a real hierarchy.
  w.String(flat ? "campaign_id" : "ad_group_id", flat ? "c00000000" : "g00000000");
  if (kind == MalformedKind::kWrongVersionType) {
    static constexpr std::string_view kVersions[] = {"\"yesterday\"", "true", "null", "1.5", "[1]", "{}",
                                                     "\"2025-13-45T99:00:00Z\""};
    w.Raw("version", kVersions[rng.Below(std::size(kVersions))]);
  } else {
    w.Int("version", version);
  }
  if (!flat) w.String("status", "ACTIVE");
  if (kind == MalformedKind::kWrongDeletedType) {
    // Not null: parsers read a null field as absent, so such a line is valid.
    static constexpr std::string_view kDeleted[] = {"\"no\"", "0", "\"false\""};
    w.Raw("deleted", kDeleted[rng.Below(std::size(kDeleted))]);
  } else {
    w.Bool("deleted", false);
  }
  if (kind == MalformedKind::kInvalidUtf8) {
    // Raw bytes, bypassing the escaper: a lone continuation byte, a
    // truncated sequence, an overlong '/', a UTF-16 surrogate, 0xFF.
    static constexpr std::string_view kBad[] = {"\"caf\x80 offer\"", "\"deal \xc3\x28 now\"",
                                                "\"path\xc0\xaf\"", "\"\xed\xa0\x80 surrogate\"",
                                                "\"\xff\xfe sale\""};
    w.Raw("title", kBad[rng.Below(std::size(kBad))]);
  } else {
    w.String("title", "malformed record");
  }
  w.End();
  return kind;
}

}  // namespace freshet::gen
