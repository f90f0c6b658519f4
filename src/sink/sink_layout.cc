#include "sink/sink_layout.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace freshet {

std::string GenerationFileKey(std::string_view generation, std::string_view file) {
  std::string k(generation);
  k.push_back('/');
  k.append(file);
  return k;
}

std::string EncodeCurrent(const CurrentPointer& c) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.Int(kCurrentFormat);
  w.Key("full");
  w.String(c.full);
  w.Key("delta");
  w.String(c.delta);
  w.Key("chain");
  w.StartArray();
  for (const std::string& id : EffectiveChain(c.delta, c.chain)) w.String(id);
  w.EndArray();
  w.Key("watermark");
  if (c.watermark) w.String(FormatRfc3339(*c.watermark)); else w.Null();
  w.Key("checkpoint");
  std::string cp = EncodeCheckpoint(c.checkpoint);
  w.RawValue(cp.data(), cp.size(), rapidjson::kObjectType);
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

CurrentPointer CurrentFrom(Checkpoint checkpoint) {
  CurrentPointer c;
  c.full = checkpoint.base_generation;
  c.delta = checkpoint.delta_generation;
  c.chain = EffectiveChain(checkpoint.delta_generation, checkpoint.chain);
  c.watermark = checkpoint.watermark;
  c.checkpoint = std::move(checkpoint);
  return c;
}

Result<CurrentPointer> DecodeCurrent(std::string_view json) {
  FRESHET_ASSIGN_OR_RETURN(JsonDocument doc, JsonDocument::Parse(json, "CURRENT", kMaxCurrentBytes));
  const JsonObject root = doc.root();
  FRESHET_RETURN_IF_ERROR(root.CheckFormat("format", kCurrentFormat));
  FRESHET_RETURN_IF_ERROR(root.CheckKeys({"format", "full", "delta", "watermark", "checkpoint"}, {"chain"}));
  CurrentPointer c;
  FRESHET_RETURN_IF_ERROR(root.ReadString("full", &c.full));
  FRESHET_RETURN_IF_ERROR(root.ReadString("delta", &c.delta));
  if (root.Has("chain")) {
    FRESHET_RETURN_IF_ERROR(root.ReadStringArray("chain", &c.chain));
    if (c.chain.size() > kMaxChainLength) return root.Bad("chain", "is longer than " + std::to_string(kMaxChainLength));
    if (c.chain.empty() != c.delta.empty() || (!c.chain.empty() && c.chain.back() != c.delta)) {
      return root.Bad("chain", "does not end with delta \"" + c.delta + "\"");
    }
  } else if (!c.delta.empty()) {
    c.chain.push_back(c.delta);
  }
  FRESHET_RETURN_IF_ERROR(root.ReadOptionalTime("watermark", &c.watermark));
  FRESHET_ASSIGN_OR_RETURN(JsonObject cp, root.ReadObject("checkpoint"));
  FRESHET_ASSIGN_OR_RETURN(c.checkpoint, DecodeCheckpoint(cp));
  return c;
}

}  // namespace freshet
