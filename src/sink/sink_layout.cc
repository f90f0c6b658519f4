#include "sink/sink_layout.h"

#include <rapidjson/document.h>
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

Result<CurrentPointer> DecodeCurrent(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return Status::DataLoss("CURRENT: not a JSON object");
  auto str = [&](const char* key, std::string* out) -> Status {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsString()) return Status::DataLoss(std::string("CURRENT: \"") + key + "\" missing or not a string");
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return Status::Ok();
  };
  auto fmt = d.FindMember("format");
  if (fmt == d.MemberEnd() || !fmt->value.IsInt()) return Status::DataLoss("CURRENT: \"format\" missing or not an integer");
  if (fmt->value.GetInt() != kCurrentFormat)
    return Status::FailedPrecondition("CURRENT: format " + std::to_string(fmt->value.GetInt()) + " is not supported (want " +
                                      std::to_string(kCurrentFormat) + ")");
  CurrentPointer c;
  FRESHET_RETURN_IF_ERROR(str("full", &c.full));
  FRESHET_RETURN_IF_ERROR(str("delta", &c.delta));
  auto wm = d.FindMember("watermark");
  if (wm == d.MemberEnd()) return Status::DataLoss("CURRENT: \"watermark\" missing");
  if (wm->value.IsString()) {
    auto t = ParseRfc3339(wm->value.GetString());
    if (!t.ok()) return Status::DataLoss("CURRENT: \"watermark\": " + t.status().message());
    c.watermark = *t;
  } else if (!wm->value.IsNull()) {
    return Status::DataLoss("CURRENT: \"watermark\" must be a string or null");
  }
  auto cp = d.FindMember("checkpoint");
  if (cp == d.MemberEnd() || !cp->value.IsObject()) return Status::DataLoss("CURRENT: \"checkpoint\" missing or not an object");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  cp->value.Accept(w);
  auto decoded = DecodeCheckpoint(std::string_view(buf.GetString(), buf.GetSize()));
  if (!decoded.ok()) return decoded.status().WithContext("CURRENT: \"checkpoint\"");
  c.checkpoint = std::move(decoded).value();
  return c;
}


}  // namespace freshet
