#include "base/json_reader.h"

#include <rapidjson/error/en.h>

#include "base/utf8.h"

namespace freshet {
namespace {

// rapidjson's encoding check passes a lone low surrogate written as a \u
// escape ("\udc00") and decodes it into bytes that are not UTF-8: such a
// string would be written back as JSON no reader accepts.
constexpr std::string_view kNotUtf8 = "is not valid UTF-8 (an escaped lone surrogate)";

rapidjson::Value::StringRefType Ref(std::string_view s) {
  return rapidjson::StringRef(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

Result<JsonDocument> JsonDocument::Parse(std::string_view json, std::string what, size_t max_bytes) {
  if (json.size() > max_bytes) {
    return Status::DataLoss(what + " is " + std::to_string(json.size()) + " bytes, more than the " +
                            std::to_string(max_bytes) + " it can be");
  }
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc->HasParseError()) {
    return Status::DataLoss(what + " is not valid JSON: " + rapidjson::GetParseError_En(doc->GetParseError()) +
                            " at offset " + std::to_string(doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) return Status::DataLoss(what + " is not a JSON object");
  JsonDocument d;
  d.doc_ = std::move(doc);
  d.what_ = std::make_shared<const std::string>(std::move(what));
  return d;
}

JsonObject JsonDocument::root() const { return JsonObject(doc_.get(), what_, "", doc_); }

std::string JsonObject::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Status JsonObject::Bad(std::string_view key, std::string_view problem) const {
  return Status::DataLoss(*what_ + ": \"" + PathOf(key) + "\" " + std::string(problem));
}

const rapidjson::Value& JsonObject::Member(std::string_view key) const { return value_->FindMember(Ref(key))->value; }

Status JsonObject::CheckFormat(std::string_view key, int want) const {
  auto it = value_->FindMember(Ref(key));
  if (it == value_->MemberEnd()) return Status::DataLoss(*what_ + ": missing key \"" + PathOf(key) + "\"");
  if (!it->value.IsInt()) return Bad(key, "is not an integer");
  if (it->value.GetInt() != want) {
    return Status::FailedPrecondition(*what_ + " \"" + PathOf(key) + "\" is " + std::to_string(it->value.GetInt()) +
                                      "; this freshet reads format " + std::to_string(want));
  }
  return Status::Ok();
}

Status JsonObject::CheckKeys(std::initializer_list<std::string_view> keys) const { return CheckKeys(keys, {}); }

Status JsonObject::CheckKeys(std::initializer_list<std::string_view> keys,
                             std::initializer_list<std::string_view> optional) const {
  size_t present_optional = 0;
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view k : keys) known = known || k == name;
    for (std::string_view k : optional) known = known || k == name;
    if (!known) return Status::DataLoss(*what_ + ": unknown key \"" + PathOf(name.substr(0, 64)) + "\"");
  }
  for (std::string_view k : keys) {
    if (!value_->HasMember(Ref(k))) return Status::DataLoss(*what_ + ": missing key \"" + PathOf(k) + "\"");
  }
  for (std::string_view k : optional) present_optional += value_->HasMember(Ref(k)) ? 1 : 0;
  // Every allowed key present at most once: a larger count means a repeat.
  if (value_->MemberCount() != keys.size() + present_optional) {
    return Status::DataLoss(*what_ + ": a key repeats in \"" + (path_.empty() ? "." : path_) + "\"");
  }
  return Status::Ok();
}

bool JsonObject::Has(std::string_view key) const { return value_->HasMember(Ref(key)); }

Status JsonObject::RequireKeys(std::initializer_list<std::string_view> keys) const {
  for (std::string_view k : keys) {
    if (!value_->HasMember(Ref(k))) return Status::DataLoss(*what_ + ": missing key \"" + PathOf(k) + "\"");
  }
  return Status::Ok();
}

Status JsonObject::ReadStringArray(std::string_view key, std::vector<std::string>* out) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsArray()) return Bad(key, "is not an array");
  out->clear();
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsString()) {
      return Status::DataLoss(*what_ + ": \"" + PathOf(key) + "[" + std::to_string(i) + "]\" is not a string");
    }
    std::string_view s(v[i].GetString(), v[i].GetStringLength());
    if (!IsValidUtf8(s)) {
      return Status::DataLoss(*what_ + ": \"" + PathOf(key) + "[" + std::to_string(i) + "]\" " + std::string(kNotUtf8));
    }
    out->emplace_back(s);
  }
  return Status::Ok();
}

Status JsonObject::ReadUint64Array(std::string_view key, std::vector<uint64_t>* out) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsArray()) return Bad(key, "is not an array");
  out->clear();
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsUint64()) {
      return Status::DataLoss(*what_ + ": \"" + PathOf(key) + "[" + std::to_string(i) +
                              "]\" is not a non-negative integer");
    }
    out->push_back(v[i].GetUint64());
  }
  return Status::Ok();
}

bool JsonObject::IsNull(std::string_view key) const { return Member(key).IsNull(); }

Status JsonObject::ReadString(std::string_view key, std::string* out) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsString()) return Bad(key, "is not a string");
  std::string_view s(v.GetString(), v.GetStringLength());
  if (!IsValidUtf8(s)) return Bad(key, kNotUtf8);
  out->assign(s);
  return Status::Ok();
}

Status JsonObject::ReadUint64(std::string_view key, uint64_t* out) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsUint64()) return Bad(key, "is not a non-negative integer");
  *out = v.GetUint64();
  return Status::Ok();
}

Status JsonObject::ReadTime(std::string_view key, TimePoint* out) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsString()) return Bad(key, "is not an RFC 3339 time");
  auto t = ParseRfc3339(std::string_view(v.GetString(), v.GetStringLength()));
  if (!t.ok()) return Bad(key, t.status().message());
  *out = *t;
  return Status::Ok();
}

Status JsonObject::ReadOptionalTime(std::string_view key, std::optional<TimePoint>* out) const {
  const rapidjson::Value& v = Member(key);
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  if (!v.IsString()) return Bad(key, "is neither an RFC 3339 time nor null");
  TimePoint t;
  FRESHET_RETURN_IF_ERROR(ReadTime(key, &t));
  *out = t;
  return Status::Ok();
}

Result<JsonObject> JsonObject::ReadObject(std::string_view key) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsObject()) return Bad(key, "is not an object");
  return JsonObject(&v, what_, PathOf(key), doc_);
}

Result<std::vector<JsonObject>> JsonObject::ReadObjects(std::string_view key, size_t max_entries) const {
  const rapidjson::Value& v = Member(key);
  if (!v.IsArray()) return Bad(key, "is not an array");
  if (v.Size() > max_entries) {
    return Bad(key, "has " + std::to_string(v.Size()) + " entries, more than " + std::to_string(max_entries));
  }
  std::vector<JsonObject> out;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const std::string path = PathOf(key) + "[" + std::to_string(i) + "]";
    if (!v[i].IsObject()) return Status::DataLoss(*what_ + ": \"" + path + "\" is not an object");
    out.push_back(JsonObject(&v[i], what_, path, doc_));
  }
  return out;
}

}  // namespace freshet
