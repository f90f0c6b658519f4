#include "sink/checkpoint.h"

#include <algorithm>

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

std::vector<std::string> EffectiveChain(const std::string& delta, const std::vector<std::string>& chain) {
  if (chain.empty() && !delta.empty()) return {delta};
  return chain;
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
  w.Key("chain");
  w.StartArray();
  for (const std::string& id : EffectiveChain(cp.delta_generation, cp.chain)) WriteString(w, id);
  w.EndArray();
  w.Key("chain_bytes");
  w.StartArray();
  for (size_t i = 0; i < EffectiveChain(cp.delta_generation, cp.chain).size(); ++i) {
    w.Uint64(i < cp.chain_bytes.size() ? cp.chain_bytes[i] : 0);
  }
  w.EndArray();
  w.Key("pending_merge");
  if (cp.pending_merge) {
    w.StartObject();
    w.Key("begin");
    w.Uint64(cp.pending_merge->begin);
    w.Key("run");
    w.StartArray();
    for (const std::string& id : cp.pending_merge->run) WriteString(w, id);
    w.EndArray();
    w.Key("id");
    WriteString(w, cp.pending_merge->id);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("retired");
  w.StartArray();
  for (const Checkpoint::Retired& r : cp.retired) {
    w.StartObject();
    w.Key("id");
    WriteString(w, r.id);
    w.Key("until_batch");
    w.Uint64(r.until_batch);
    w.EndObject();
  }
  w.EndArray();
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
                                          "delta_generation", "build_salt", "next_batch_id", "recent"},
                                         {"chain", "chain_bytes", "pending_merge", "retired"}));
  Checkpoint cp;
  FRESHET_RETURN_IF_ERROR(root.ReadOptionalTime("watermark", &cp.watermark));
  FRESHET_RETURN_IF_ERROR(root.ReadOptionalTime("base_snapshot", &cp.base_snapshot));
  FRESHET_RETURN_IF_ERROR(root.ReadString("base_generation", &cp.base_generation));
  FRESHET_RETURN_IF_ERROR(root.ReadString("delta_generation", &cp.delta_generation));
  FRESHET_RETURN_IF_ERROR(root.ReadString("build_salt", &cp.build_salt));
  FRESHET_RETURN_IF_ERROR(root.ReadUint64("next_batch_id", &cp.next_batch_id));
  if (cp.next_batch_id == 0) return root.Bad("next_batch_id", "is 0; batch ids start at 1");
  // Checkpoints written before delta chains name one delta: a chain of one.
  if (root.Has("chain")) {
    FRESHET_RETURN_IF_ERROR(root.ReadStringArray("chain", &cp.chain));
    if (cp.chain.size() > kMaxChainLength) return root.Bad("chain", "is longer than " + std::to_string(kMaxChainLength));
    if (cp.chain.empty() != cp.delta_generation.empty() ||
        (!cp.chain.empty() && cp.chain.back() != cp.delta_generation)) {
      return root.Bad("chain", "does not end with delta_generation \"" + cp.delta_generation + "\"");
    }
  } else if (!cp.delta_generation.empty()) {
    cp.chain.push_back(cp.delta_generation);
  }
  cp.chain_bytes.assign(cp.chain.size(), 0);
  if (root.Has("chain_bytes")) {
    std::vector<uint64_t> bytes;
    FRESHET_RETURN_IF_ERROR(root.ReadUint64Array("chain_bytes", &bytes));
    if (bytes.size() != cp.chain.size()) return root.Bad("chain_bytes", "is not as long as \"chain\"");
    cp.chain_bytes = std::move(bytes);
  }
  if (root.Has("pending_merge") && !root.IsNull("pending_merge")) {
    FRESHET_ASSIGN_OR_RETURN(JsonObject pm, root.ReadObject("pending_merge"));
    FRESHET_RETURN_IF_ERROR(pm.CheckKeys({"begin", "run", "id"}));
    Checkpoint::PendingMerge m;
    uint64_t begin = 0;
    FRESHET_RETURN_IF_ERROR(pm.ReadUint64("begin", &begin));
    FRESHET_RETURN_IF_ERROR(pm.ReadStringArray("run", &m.run));
    FRESHET_RETURN_IF_ERROR(pm.ReadString("id", &m.id));
    m.begin = static_cast<size_t>(begin);
    const bool fits = m.run.size() >= 2 && m.begin + m.run.size() <= cp.chain.size() &&
                      std::equal(m.run.begin(), m.run.end(), cp.chain.begin() + static_cast<ptrdiff_t>(m.begin));
    if (!fits) return root.Bad("pending_merge", "does not name segments of \"chain\"");
    cp.pending_merge = std::move(m);
  }
  if (root.Has("retired")) {
    FRESHET_ASSIGN_OR_RETURN(std::vector<JsonObject> retired, root.ReadObjects("retired", kMaxRetiredSegments));
    for (const JsonObject& e : retired) {
      FRESHET_RETURN_IF_ERROR(e.CheckKeys({"id", "until_batch"}));
      Checkpoint::Retired r;
      FRESHET_RETURN_IF_ERROR(e.ReadString("id", &r.id));
      FRESHET_RETURN_IF_ERROR(e.ReadUint64("until_batch", &r.until_batch));
      cp.retired.push_back(std::move(r));
    }
  }

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
