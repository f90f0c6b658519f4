#include "sink/checkpoint.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
  FRESHET_ASSIGN_OR_RETURN(JsonDocument doc, JsonDocument::Parse(json, "checkpoint", kMaxCheckpointBytes));
  return DecodeCheckpoint(doc.root());
}

Result<Checkpoint> DecodeCheckpoint(const JsonObject& root) {
  FRESHET_RETURN_IF_ERROR(root.CheckFormat("format", kCheckpointFormat));
  FRESHET_RETURN_IF_ERROR(root.CheckKeys({"format", "watermark", "base_snapshot", "base_generation",
                                          "delta_generation", "build_salt", "next_batch_id", "recent"}));
  Checkpoint cp;
  FRESHET_RETURN_IF_ERROR(root.ReadOptionalTime("watermark", &cp.watermark));
  FRESHET_RETURN_IF_ERROR(root.ReadOptionalTime("base_snapshot", &cp.base_snapshot));
  FRESHET_RETURN_IF_ERROR(root.ReadString("base_generation", &cp.base_generation));
  FRESHET_RETURN_IF_ERROR(root.ReadString("delta_generation", &cp.delta_generation));
  FRESHET_RETURN_IF_ERROR(root.ReadString("build_salt", &cp.build_salt));
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("next_batch_id", &cp.next_batch_id));
  if (cp.next_batch_id == 0) return root.Bad("next_batch_id", "is 0; batch ids start at 1");

  FRESHET_ASSIGN_OR_RETURN(std::vector<JsonObject> recent, root.ReadObjects("recent", kMaxRecentBatches));
  for (const JsonObject& e : recent) {
    FRESHET_RETURN_IF_ERROR(e.CheckKeys({"batch_id", "kind", "target", "full_generation", "delta_generation"}));
    BatchDescriptor b;
    FRESHET_RETURN_IF_ERROR(e.ReadUint64("batch_id", &b.batch_id));
    std::string kind;
    FRESHET_RETURN_IF_ERROR(e.ReadString("kind", &kind));
    auto k = ParseBatchKind(kind);
    if (!k) return e.Bad("kind", "is \"" + kind.substr(0, 32) + "\", not \"delta\" or \"full_and_delta\"");
    b.kind = *k;
    FRESHET_RETURN_IF_ERROR(e.ReadOptionalTime("target", &b.target));
    FRESHET_RETURN_IF_ERROR(e.ReadString("full_generation", &b.full_generation));
    FRESHET_RETURN_IF_ERROR(e.ReadString("delta_generation", &b.delta_generation));
    cp.recent.push_back(std::move(b));
  }
  return cp;
}

}  // namespace freshet
