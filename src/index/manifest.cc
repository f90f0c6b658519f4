#include "index/manifest.h"

#include "base/json_reader.h"

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

// Times in a manifest are strings, "" where the generation has none.
Status CheckTime(const JsonObject& obj, std::string_view key, const std::string& v) {
  if (v.empty()) return Status::Ok();
  auto t = ParseRfc3339(v);
  if (!t.ok()) return obj.Bad(key, "is not an RFC 3339 time: " + t.status().message());
  return Status::Ok();
}

Status ReadTimeString(const JsonObject& obj, std::string_view key, std::string* out) {
  FRESHET_RETURN_IF_ERROR(obj.ReadString(key, out));
  return CheckTime(obj, key, *out);
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
  Str(w, "predecessor", m.predecessor);
  Str(w, "snapshot", m.snapshot);
  Str(w, "window_start", m.window_start);
  Str(w, "window_end", m.window_end);
  Str(w, "target", m.target);
  Str(w, "watermark", m.watermark);
  StrArray(w, "skipped", m.skipped);
  StrArray(w, "merged", m.merged);
  for (const auto& [name, list] : {std::pair<const char*, const std::vector<ManifestInput>*>{"inputs", &m.inputs},
                                    {"removed", &m.removed},
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
  FRESHET_ASSIGN_OR_RETURN(JsonDocument doc, JsonDocument::Parse(json, "manifest.json", kMaxManifestBytes));
  const JsonObject root = doc.root();
  FRESHET_RETURN_IF_ERROR(root.CheckFormat("format_version", kManifestFormatVersion));
  // Every key this version writes is required; keys a newer writer adds
  // without a format change are ignored.
  FRESHET_RETURN_IF_ERROR(root.RequireKeys({"kind", "generation", "schema_hash", "base", "snapshot", "window_start",
                                            "window_end", "target", "watermark", "skipped", "inputs", "base_inputs",
                                            "text_fields", "keyword_fields", "counts", "files", "quarantine",
                                            "warnings"}));
  Manifest m;
  m.format_version = kManifestFormatVersion;
  FRESHET_RETURN_IF_ERROR(root.ReadString("kind", &m.kind));
  if (m.kind != "full" && m.kind != "delta") return root.Bad("kind", "must be \"full\" or \"delta\"");
  FRESHET_RETURN_IF_ERROR(root.ReadString("generation", &m.generation));
  if (m.generation.empty()) return root.Bad("generation", "is empty");
  FRESHET_RETURN_IF_ERROR(root.ReadString("schema_hash", &m.schema_hash));
  FRESHET_RETURN_IF_ERROR(root.ReadString("base", &m.base));
  // A delta's base may be empty: before any snapshot exists there is no
  // full, and the delta alone covers all history.
  if (m.kind == "full" && !m.base.empty()) return root.Bad("base", "is set, but a full has no base");
  // Chain fields: absent in manifests written before delta chains (a
  // delta then stands alone on its base).
  if (root.Has("predecessor")) FRESHET_RETURN_IF_ERROR(root.ReadString("predecessor", &m.predecessor));
  if (m.kind == "full" && !m.predecessor.empty()) return root.Bad("predecessor", "is set, but a full has none");
  if (root.Has("merged")) FRESHET_RETURN_IF_ERROR(root.ReadStringArray("merged", &m.merged));
  FRESHET_RETURN_IF_ERROR(ReadTimeString(root, "snapshot", &m.snapshot));
  FRESHET_RETURN_IF_ERROR(ReadTimeString(root, "window_start", &m.window_start));
  FRESHET_RETURN_IF_ERROR(ReadTimeString(root, "window_end", &m.window_end));
  FRESHET_RETURN_IF_ERROR(ReadTimeString(root, "target", &m.target));
  FRESHET_RETURN_IF_ERROR(ReadTimeString(root, "watermark", &m.watermark));
  FRESHET_RETURN_IF_ERROR(root.ReadStringArray("skipped", &m.skipped));
  for (size_t i = 0; i < m.skipped.size(); ++i) {
    const std::string key = "skipped[" + std::to_string(i) + "]";
    if (m.skipped[i].empty()) return root.Bad(key, "is an empty time");
    FRESHET_RETURN_IF_ERROR(CheckTime(root, key, m.skipped[i]));
  }
  for (const auto& [name, list] : {std::pair<const char*, std::vector<ManifestInput>*>{"inputs", &m.inputs},
                                    {"removed", &m.removed},
                                    {"base_inputs", &m.base_inputs}}) {
    if (std::string_view(name) == "removed" && !root.Has(name)) continue;
    FRESHET_ASSIGN_OR_RETURN(std::vector<JsonObject> entries, root.ReadObjects(name, SIZE_MAX));
    for (const JsonObject& e : entries) {
      FRESHET_RETURN_IF_ERROR(e.RequireKeys({"key", "size", "etag"}));
      ManifestInput in;
      FRESHET_RETURN_IF_ERROR(e.ReadString("key", &in.key));
      FRESHET_RETURN_IF_ERROR(e.ReadUint64("size", &in.size));
      FRESHET_RETURN_IF_ERROR(e.ReadString("etag", &in.etag));
      list->push_back(std::move(in));
    }
  }
  FRESHET_RETURN_IF_ERROR(root.ReadStringArray("text_fields", &m.text_fields));
  FRESHET_RETURN_IF_ERROR(root.ReadStringArray("keyword_fields", &m.keyword_fields));
  FRESHET_ASSIGN_OR_RETURN(JsonObject c, root.ReadObject("counts"));
  FRESHET_RETURN_IF_ERROR(c.RequireKeys(
      {"records", "bad_records", "docs", "tombstones", "terms", "postings", "input_bytes", "output_bytes"}));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("records", &m.counts.records));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("bad_records", &m.counts.bad_records));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("docs", &m.counts.docs));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("tombstones", &m.counts.tombstones));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("terms", &m.counts.terms));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("postings", &m.counts.postings));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("input_bytes", &m.counts.input_bytes));
  FRESHET_RETURN_IF_ERROR(c.ReadUint64("output_bytes", &m.counts.output_bytes));
  FRESHET_ASSIGN_OR_RETURN(std::vector<JsonObject> files, root.ReadObjects("files", SIZE_MAX));
  for (const JsonObject& e : files) {
    FRESHET_RETURN_IF_ERROR(e.RequireKeys({"name", "size", "xxh64"}));
    ManifestFile f;
    FRESHET_RETURN_IF_ERROR(e.ReadString("name", &f.name));
    if (f.name.empty()) return e.Bad("name", "is empty");
    FRESHET_RETURN_IF_ERROR(e.ReadUint64("size", &f.size));
    FRESHET_RETURN_IF_ERROR(e.ReadString("xxh64", &f.xxh64));
    if (!IsHex16(f.xxh64)) return e.Bad("xxh64", "is not 16 lowercase hex digits");
    m.files.push_back(std::move(f));
  }
  FRESHET_RETURN_IF_ERROR(root.ReadString("quarantine", &m.quarantine));
  FRESHET_RETURN_IF_ERROR(root.ReadStringArray("warnings", &m.warnings));
  return m;
}

}  // namespace freshet
