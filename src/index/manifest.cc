#include "index/manifest.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "freshet/time.h"

namespace freshet {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void U64(Writer& w, const char* key, uint64_t v) {
  w.Key(key);
  w.Uint64(v);
}

void StrArray(Writer& w, const char* key, const std::vector<std::string>& v) {
  w.Key(key);
  w.StartArray();
  for (const auto& s : v) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

Status Bad(std::string_view path, std::string_view what) {
  return Status::DataLoss("manifest.json: " + std::string(path) + ": " + std::string(what));
}

// Field readers: `path` names the key in errors ("counts.docs", "files[2].name").
Result<const rapidjson::Value*> Member(const rapidjson::Value& obj, const std::string& path, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return Bad(path.empty() ? key : path + "." + key, "missing");
  return &it->value;
}

std::string Join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

Status GetString(const rapidjson::Value& obj, const std::string& path, const char* key, std::string* out) {
  FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* v, Member(obj, path, key));
  if (!v->IsString()) return Bad(Join(path, key), "not a string");
  out->assign(v->GetString(), v->GetStringLength());
  return Status::Ok();
}

Status GetU64(const rapidjson::Value& obj, const std::string& path, const char* key, uint64_t* out) {
  FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* v, Member(obj, path, key));
  if (!v->IsUint64()) return Bad(Join(path, key), "not a non-negative integer");
  *out = v->GetUint64();
  return Status::Ok();
}

Status CheckTime(const std::string& path, const std::string& v, bool allow_empty) {
  if (v.empty()) return allow_empty ? Status::Ok() : Bad(path, "empty time");
  auto t = ParseRfc3339(v);
  if (!t.ok()) return Bad(path, "not an RFC 3339 time: " + t.status().message());
  return Status::Ok();
}

Status GetTime(const rapidjson::Value& obj, const char* key, std::string* out) {
  FRESHET_RETURN_IF_ERROR(GetString(obj, "", key, out));
  return CheckTime(key, *out, /*allow_empty=*/true);
}

Result<const rapidjson::Value*> GetArray(const rapidjson::Value& obj, const char* key) {
  FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* v, Member(obj, "", key));
  if (!v->IsArray()) return Bad(key, "not an array");
  return v;
}

Result<const rapidjson::Value*> GetObject(const rapidjson::Value& v, const std::string& path) {
  if (!v.IsObject()) return Bad(path, "not an object");
  return &v;
}

Status GetStringArray(const rapidjson::Value& obj, const char* key, std::vector<std::string>* out) {
  FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* arr, GetArray(obj, key));
  out->clear();
  for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
    const rapidjson::Value& e = (*arr)[i];
    if (!e.IsString()) return Bad(std::string(key) + "[" + std::to_string(i) + "]", "not a string");
    out->emplace_back(e.GetString(), e.GetStringLength());
  }
  return Status::Ok();
}

bool IsHex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string ManifestToJson(const Manifest& m) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("format_version");
  w.Int(m.format_version);
  Str(w, "kind", m.kind);
  Str(w, "generation", m.generation);
  Str(w, "schema_hash", m.schema_hash);
  Str(w, "base", m.base);
  Str(w, "snapshot", m.snapshot);
  Str(w, "window_start", m.window_start);
  Str(w, "window_end", m.window_end);
  Str(w, "target", m.target);
  Str(w, "watermark", m.watermark);
  StrArray(w, "skipped", m.skipped);
  for (const auto& [name, list] : {std::pair<const char*, const std::vector<ManifestInput>*>{"inputs", &m.inputs},
                                    {"base_inputs", &m.base_inputs}}) {
    w.Key(name);
    w.StartArray();
    for (const auto& in : *list) {
      w.StartObject();
      Str(w, "key", in.key);
      U64(w, "size", in.size);
      Str(w, "etag", in.etag);
      w.EndObject();
    }
    w.EndArray();
  }
  StrArray(w, "text_fields", m.text_fields);
  StrArray(w, "keyword_fields", m.keyword_fields);
  w.Key("counts");
  w.StartObject();
  U64(w, "records", m.counts.records);
  U64(w, "bad_records", m.counts.bad_records);
  U64(w, "docs", m.counts.docs);
  U64(w, "tombstones", m.counts.tombstones);
  U64(w, "terms", m.counts.terms);
  U64(w, "postings", m.counts.postings);
  U64(w, "input_bytes", m.counts.input_bytes);
  U64(w, "output_bytes", m.counts.output_bytes);
  w.EndObject();
  w.Key("files");
  w.StartArray();
  for (const auto& f : m.files) {
    w.StartObject();
    Str(w, "name", f.name);
    U64(w, "size", f.size);
    Str(w, "xxh64", f.xxh64);
    w.EndObject();
  }
  w.EndArray();
  Str(w, "quarantine", m.quarantine);
  StrArray(w, "warnings", m.warnings);
  w.EndObject();
  std::string out(sb.GetString(), sb.GetSize());
  out.push_back('\n');
  return out;
}

Result<Manifest> ParseManifest(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) {
    return Status::DataLoss(std::string("manifest.json: invalid JSON at byte ") +
                            std::to_string(d.GetErrorOffset()) + ": " +
                            rapidjson::GetParseError_En(d.GetParseError()));
  }
  if (!d.IsObject()) return Status::DataLoss("manifest.json: not a JSON object");

  Manifest m;
  {
    FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* v, Member(d, "", "format_version"));
    if (!v->IsInt()) return Bad("format_version", "not an integer");
    m.format_version = v->GetInt();
    if (m.format_version != kManifestFormatVersion) {
      return Bad("format_version", "unsupported version " + std::to_string(m.format_version));
    }
  }
  FRESHET_RETURN_IF_ERROR(GetString(d, "", "kind", &m.kind));
  if (m.kind != "full" && m.kind != "delta") return Bad("kind", "must be \"full\" or \"delta\"");
  FRESHET_RETURN_IF_ERROR(GetString(d, "", "generation", &m.generation));
  if (m.generation.empty()) return Bad("generation", "empty");
  FRESHET_RETURN_IF_ERROR(GetString(d, "", "schema_hash", &m.schema_hash));
  FRESHET_RETURN_IF_ERROR(GetString(d, "", "base", &m.base));
  // A delta's base may be empty: before any snapshot exists there is no
  // full, and the delta alone covers all history.
  if (m.kind == "full" && !m.base.empty()) {
    return Bad("base", "a full has no base");
  }
  FRESHET_RETURN_IF_ERROR(GetTime(d, "snapshot", &m.snapshot));
  FRESHET_RETURN_IF_ERROR(GetTime(d, "window_start", &m.window_start));
  FRESHET_RETURN_IF_ERROR(GetTime(d, "window_end", &m.window_end));
  FRESHET_RETURN_IF_ERROR(GetTime(d, "target", &m.target));
  FRESHET_RETURN_IF_ERROR(GetTime(d, "watermark", &m.watermark));
  FRESHET_RETURN_IF_ERROR(GetStringArray(d, "skipped", &m.skipped));
  for (size_t i = 0; i < m.skipped.size(); ++i) {
    FRESHET_RETURN_IF_ERROR(CheckTime("skipped[" + std::to_string(i) + "]", m.skipped[i], false));
  }
  for (const auto& [name, list] : {std::pair<const char*, std::vector<ManifestInput>*>{"inputs", &m.inputs},
                                    {"base_inputs", &m.base_inputs}}) {
    FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* arr, GetArray(d, name));
    for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
      const std::string path = std::string(name) + "[" + std::to_string(i) + "]";
      FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* e, GetObject((*arr)[i], path));
      ManifestInput in;
      FRESHET_RETURN_IF_ERROR(GetString(*e, path, "key", &in.key));
      FRESHET_RETURN_IF_ERROR(GetU64(*e, path, "size", &in.size));
      FRESHET_RETURN_IF_ERROR(GetString(*e, path, "etag", &in.etag));
      list->push_back(std::move(in));
    }
  }
  FRESHET_RETURN_IF_ERROR(GetStringArray(d, "text_fields", &m.text_fields));
  FRESHET_RETURN_IF_ERROR(GetStringArray(d, "keyword_fields", &m.keyword_fields));
  {
    FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* v, Member(d, "", "counts"));
    FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* c, GetObject(*v, "counts"));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "records", &m.counts.records));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "bad_records", &m.counts.bad_records));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "docs", &m.counts.docs));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "tombstones", &m.counts.tombstones));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "terms", &m.counts.terms));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "postings", &m.counts.postings));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "input_bytes", &m.counts.input_bytes));
    FRESHET_RETURN_IF_ERROR(GetU64(*c, "counts", "output_bytes", &m.counts.output_bytes));
  }
  {
    FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* arr, GetArray(d, "files"));
    for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
      const std::string path = "files[" + std::to_string(i) + "]";
      FRESHET_ASSIGN_OR_RETURN(const rapidjson::Value* e, GetObject((*arr)[i], path));
      ManifestFile f;
      FRESHET_RETURN_IF_ERROR(GetString(*e, path, "name", &f.name));
      if (f.name.empty()) return Bad(path + ".name", "empty");
      FRESHET_RETURN_IF_ERROR(GetU64(*e, path, "size", &f.size));
      FRESHET_RETURN_IF_ERROR(GetString(*e, path, "xxh64", &f.xxh64));
      if (!IsHex16(f.xxh64)) return Bad(path + ".xxh64", "not 16 lowercase hex digits");
      m.files.push_back(std::move(f));
    }
  }
  FRESHET_RETURN_IF_ERROR(GetString(d, "", "quarantine", &m.quarantine));
  FRESHET_RETURN_IF_ERROR(GetStringArray(d, "warnings", &m.warnings));
  return m;
}

}  // namespace freshet
