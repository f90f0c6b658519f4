#include "plan/checkpoint.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>

namespace freshet {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteTime(JsonWriter& w, const std::optional<TimePoint>& t) {
  if (t) {
    WriteString(w, FormatRfc3339(*t));
  } else {
    w.Null();
  }
}

Status Bad(std::string_view key, std::string_view problem) {
  return Status::DataLoss("checkpoint: \"" + std::string(key) + "\" " + std::string(problem));
}

// Every key of `obj` must be in `allowed` and every key of `allowed` in
// `obj`: a checkpoint is written whole by EncodeCheckpoint, so anything else
// is damage or a different format.
Status CheckKeys(const rapidjson::Value& obj, std::string_view where, std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known)
      return Status::DataLoss("checkpoint: unknown key \"" + std::string(where) + std::string(name.substr(0, 64)) +
                              "\"");
  }
  for (std::string_view a : allowed) {
    if (!obj.HasMember(rapidjson::Value(rapidjson::StringRef(a.data(), static_cast<rapidjson::SizeType>(a.size())))))
      return Status::DataLoss("checkpoint: missing key \"" + std::string(where) + std::string(a) + "\"");
  }
  // All allowed keys present and no others: a larger count means a repeat.
  if (obj.MemberCount() != allowed.size())
    return Status::DataLoss("checkpoint: a key repeats in \"" + std::string(where.empty() ? "." : where) + "\"");
  return Status::Ok();
}

const rapidjson::Value& Member(const rapidjson::Value& obj, std::string_view key) {
  return obj.FindMember(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())))->value;
}

Status ReadString(const rapidjson::Value& obj, std::string_view key, std::string_view where, std::string* out) {
  const auto& v = Member(obj, key);
  if (!v.IsString()) return Bad(std::string(where) + std::string(key), "is not a string");
  out->assign(v.GetString(), v.GetStringLength());
  return Status::Ok();
}

Status ReadTime(const rapidjson::Value& obj, std::string_view key, std::string_view where,
                std::optional<TimePoint>* out) {
  const auto& v = Member(obj, key);
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  if (!v.IsString()) return Bad(std::string(where) + std::string(key), "is neither an RFC 3339 time nor null");
  auto t = ParseRfc3339(std::string_view(v.GetString(), v.GetStringLength()));
  if (!t.ok()) return Bad(std::string(where) + std::string(key), t.status().message());
  *out = *t;
  return Status::Ok();
}

Status ReadUint64(const rapidjson::Value& obj, std::string_view key, std::string_view where, uint64_t* out) {
  const auto& v = Member(obj, key);
  if (!v.IsUint64()) return Bad(std::string(where) + std::string(key), "is not a non-negative integer");
  *out = v.GetUint64();
  return Status::Ok();
}

}  // namespace

std::string_view BatchKindName(BatchKind kind) {
  switch (kind) {
    case BatchKind::kDelta: return "delta";
    case BatchKind::kFullAndDelta: return "full_and_delta";
  }
  return "unknown";
}

std::optional<BatchKind> ParseBatchKind(std::string_view name) {
  if (name == "delta") return BatchKind::kDelta;
  if (name == "full_and_delta") return BatchKind::kFullAndDelta;
  return std::nullopt;
}

std::string EncodeCheckpoint(const Checkpoint& cp) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("format");
  w.Int(kCheckpointFormat);
  w.Key("watermark");
  WriteTime(w, cp.watermark);
  w.Key("base_snapshot");
  WriteTime(w, cp.base_snapshot);
  w.Key("base_generation");
  WriteString(w, cp.base_generation);
  w.Key("delta_generation");
  WriteString(w, cp.delta_generation);
  w.Key("build_salt");
  WriteString(w, cp.build_salt);
  w.Key("next_batch_id");
  w.Uint64(cp.next_batch_id);
  w.Key("recent");
  w.StartArray();
  for (const BatchDescriptor& b : cp.recent) {
    w.StartObject();
    w.Key("batch_id");
    w.Uint64(b.batch_id);
    w.Key("kind");
    WriteString(w, BatchKindName(b.kind));
    w.Key("target");
    WriteTime(w, b.target);
    w.Key("full_generation");
    WriteString(w, b.full_generation);
    w.Key("delta_generation");
    WriteString(w, b.delta_generation);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Checkpoint> DecodeCheckpoint(std::string_view json) {
  if (json.size() > kMaxCheckpointBytes)
    return Status::DataLoss("checkpoint is " + std::to_string(json.size()) + " bytes, more than the " +
                            std::to_string(kMaxCheckpointBytes) + " a checkpoint can be");
  rapidjson::Document doc;
  // Iterative parsing: deep nesting in damaged input cannot exhaust the
  // stack. Encoding validation: strings are checked as UTF-8.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError())
    return Status::DataLoss(std::string("checkpoint is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                            " at offset " + std::to_string(doc.GetErrorOffset()));
  if (!doc.IsObject()) return Status::DataLoss("checkpoint is not a JSON object");

  // The format decides how to read the rest, so it is checked first.
  auto fmt = doc.FindMember("format");
  if (fmt == doc.MemberEnd()) return Status::DataLoss("checkpoint: missing key \"format\"");
  if (!fmt->value.IsInt()) return Bad("format", "is not an integer");
  if (fmt->value.GetInt() != kCheckpointFormat)
    return Status::FailedPrecondition("checkpoint \"format\" is " + std::to_string(fmt->value.GetInt()) +
                                      "; this freshet reads format " + std::to_string(kCheckpointFormat));

  FRESHET_RETURN_IF_ERROR(CheckKeys(doc, "",
                                    {"format", "watermark", "base_snapshot", "base_generation", "delta_generation",
                                     "build_salt", "next_batch_id", "recent"}));
  Checkpoint cp;
  FRESHET_RETURN_IF_ERROR(ReadTime(doc, "watermark", "", &cp.watermark));
  FRESHET_RETURN_IF_ERROR(ReadTime(doc, "base_snapshot", "", &cp.base_snapshot));
  FRESHET_RETURN_IF_ERROR(ReadString(doc, "base_generation", "", &cp.base_generation));
  FRESHET_RETURN_IF_ERROR(ReadString(doc, "delta_generation", "", &cp.delta_generation));
  FRESHET_RETURN_IF_ERROR(ReadString(doc, "build_salt", "", &cp.build_salt));
  FRESHET_RETURN_IF_ERROR(ReadUint64(doc, "next_batch_id", "", &cp.next_batch_id));
  if (cp.next_batch_id == 0) return Bad("next_batch_id", "is 0; batch ids start at 1");

  const auto& recent = Member(doc, "recent");
  if (!recent.IsArray()) return Bad("recent", "is not an array");
  if (recent.Size() > kMaxRecentBatches)
    return Bad("recent", "has " + std::to_string(recent.Size()) + " entries, more than " +
                             std::to_string(kMaxRecentBatches));
  for (rapidjson::SizeType i = 0; i < recent.Size(); ++i) {
    const std::string where = "recent[" + std::to_string(i) + "].";
    const auto& e = recent[i];
    if (!e.IsObject()) return Bad("recent[" + std::to_string(i) + "]", "is not an object");
    FRESHET_RETURN_IF_ERROR(
        CheckKeys(e, where, {"batch_id", "kind", "target", "full_generation", "delta_generation"}));
    BatchDescriptor b;
    FRESHET_RETURN_IF_ERROR(ReadUint64(e, "batch_id", where, &b.batch_id));
    std::string kind;
    FRESHET_RETURN_IF_ERROR(ReadString(e, "kind", where, &kind));
    auto k = ParseBatchKind(kind);
    if (!k) return Bad(where + "kind", "is \"" + kind.substr(0, 32) + "\", not \"delta\" or \"full_and_delta\"");
    b.kind = *k;
    FRESHET_RETURN_IF_ERROR(ReadTime(e, "target", where, &b.target));
    FRESHET_RETURN_IF_ERROR(ReadString(e, "full_generation", where, &b.full_generation));
    FRESHET_RETURN_IF_ERROR(ReadString(e, "delta_generation", where, &b.delta_generation));
    cp.recent.push_back(std::move(b));
  }
  return cp;
}

}  // namespace freshet
