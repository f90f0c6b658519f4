#include "e2e/sink_check.h"

#include <rapidjson/document.h>
#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include "e2e/child_process.h"

namespace freshet::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr std::string_view kTempPrefix = ".freshet-tmp-";

bool IsTempFile(const fs::path& p) { return p.filename().string().starts_with(kTempPrefix); }

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

bool GetString(const rapidjson::Value& obj, const char* key, std::string* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return false;
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

// A string or null member; false when missing or of another type.
bool GetOptionalString(const rapidjson::Value& obj, const char* key, std::optional<std::string>* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return false;
  if (it->value.IsNull()) {
    out->reset();
    return true;
  }
  if (!it->value.IsString()) return false;
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return true;
}

AssertionResult ParseCheckpoint(const rapidjson::Value& v, const std::string& where, SinkCheckpoint* out) {
  if (!v.IsObject()) return AssertionFailure() << where << ": not an object";
  if (!GetOptionalString(v, "watermark", &out->watermark)) return AssertionFailure() << where << ": bad watermark";
  if (!GetOptionalString(v, "base_snapshot", &out->base_snapshot))
    return AssertionFailure() << where << ": bad base_snapshot";
  if (!GetString(v, "base_generation", &out->base_generation) ||
      !GetString(v, "delta_generation", &out->delta_generation))
    return AssertionFailure() << where << ": bad base_generation/delta_generation";
  auto id = v.FindMember("next_batch_id");
  if (id == v.MemberEnd() || !id->value.IsUint64()) return AssertionFailure() << where << ": bad next_batch_id";
  out->next_batch_id = id->value.GetUint64();
  auto recent = v.FindMember("recent");
  if (recent == v.MemberEnd() || !recent->value.IsArray()) return AssertionFailure() << where << ": bad recent";
  for (const auto& b : recent->value.GetArray()) {
    std::optional<std::string> target;
    std::string delta;
    if (!b.IsObject() || !GetOptionalString(b, "target", &target) || !GetString(b, "delta_generation", &delta))
      return AssertionFailure() << where << ": bad recent entry";
    out->recent_targets.push_back(target.value_or(""));
    out->recent_deltas.push_back(delta);
  }
  return AssertionSuccess();
}

std::optional<int64_t> WatermarkSeconds(const std::optional<std::string>& wm) {
  if (!wm) return std::nullopt;
  return ParseUtcSeconds(*wm);
}

}  // namespace

std::optional<int64_t> ParseUtcSeconds(const std::string& s) {
  int y, mo, d, h, mi, sec;
  char tail[32] = {0};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &sec, tail) != 7) {
    return std::nullopt;
  }
  std::string t = tail;
  if (!t.empty() && t[0] == '.') {
    size_t i = 1;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    t = t.substr(i);
  }
  if (t != "Z") return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(::timegm(&tm));
}

AssertionResult ReadCurrent(const std::string& sink_dir, std::optional<SinkCurrent>* out) {
  out->reset();
  const std::string path = sink_dir + "/CURRENT";
  if (!fs::exists(path)) return AssertionSuccess();
  SinkCurrent c;
  c.raw = ReadFileOrEmpty(path);
  rapidjson::Document d;
  d.Parse(c.raw.data(), c.raw.size());
  if (d.HasParseError() || !d.IsObject()) return AssertionFailure() << path << ": not a JSON object: " << c.raw;
  auto fmt = d.FindMember("format");
  if (fmt == d.MemberEnd() || !fmt->value.IsInt() || fmt->value.GetInt() != 1)
    return AssertionFailure() << path << ": format is not 1";
  if (!GetString(d, "full", &c.full) || !GetString(d, "delta", &c.delta))
    return AssertionFailure() << path << ": full/delta missing";
  if (!GetOptionalString(d, "watermark", &c.watermark)) return AssertionFailure() << path << ": bad watermark";
  auto cp = d.FindMember("checkpoint");
  if (cp == d.MemberEnd()) return AssertionFailure() << path << ": checkpoint missing";
  if (AssertionResult r = ParseCheckpoint(cp->value, path + " checkpoint", &c.checkpoint); !r) return r;
  *out = std::move(c);
  return AssertionSuccess();
}

AssertionResult ReadManifest(const std::string& sink_dir, const std::string& generation, GenerationManifest* out) {
  const std::string path = sink_dir + "/" + generation + "/manifest.json";
  if (!fs::exists(path)) return AssertionFailure() << generation << ": manifest.json missing";
  std::string raw = ReadFileOrEmpty(path);
  rapidjson::Document d;
  d.Parse(raw.data(), raw.size());
  if (d.HasParseError() || !d.IsObject()) return AssertionFailure() << path << ": not a JSON object";
  GenerationManifest m;
  if (!GetString(d, "kind", &m.kind) || !GetString(d, "generation", &m.generation) ||
      !GetString(d, "base", &m.base) || !GetString(d, "snapshot", &m.snapshot) ||
      !GetString(d, "target", &m.target) || !GetString(d, "watermark", &m.watermark))
    return AssertionFailure() << path << ": kind/generation/base/snapshot/target/watermark missing";
  auto skipped = d.FindMember("skipped");
  if (skipped == d.MemberEnd() || !skipped->value.IsArray()) return AssertionFailure() << path << ": skipped";
  for (const auto& s : skipped->value.GetArray()) {
    if (!s.IsString()) return AssertionFailure() << path << ": skipped entry";
    m.skipped.emplace_back(s.GetString(), s.GetStringLength());
  }
  auto counts = d.FindMember("counts");
  if (counts == d.MemberEnd() || !counts->value.IsObject()) return AssertionFailure() << path << ": counts";
  auto docs = counts->value.FindMember("docs");
  auto tombs = counts->value.FindMember("tombstones");
  if (docs == counts->value.MemberEnd() || !docs->value.IsUint64() || tombs == counts->value.MemberEnd() ||
      !tombs->value.IsUint64())
    return AssertionFailure() << path << ": counts.docs/tombstones";
  m.docs = docs->value.GetUint64();
  m.tombstones = tombs->value.GetUint64();
  auto files = d.FindMember("files");
  if (files == d.MemberEnd() || !files->value.IsArray()) return AssertionFailure() << path << ": files";
  for (const auto& f : files->value.GetArray()) {
    ManifestFileEntry e;
    auto size = f.IsObject() ? f.FindMember("size") : f.MemberEnd();
    if (!f.IsObject() || !GetString(f, "name", &e.name) || !GetString(f, "xxh64", &e.xxh64) ||
        size == f.MemberEnd() || !size->value.IsUint64())
      return AssertionFailure() << path << ": bad files entry";
    e.size = size->value.GetUint64();
    m.files.push_back(std::move(e));
  }
  *out = std::move(m);
  return AssertionSuccess();
}

AssertionResult CheckGeneration(const std::string& sink_dir, const std::string& generation) {
  GenerationManifest m;
  if (AssertionResult r = ReadManifest(sink_dir, generation, &m); !r) return r;
  if (m.generation != generation) return AssertionFailure() << generation << ": manifest names " << m.generation;
  if (!generation.starts_with(m.kind + "/"))
    return AssertionFailure() << generation << ": manifest kind " << m.kind;
  if ((m.kind == "delta") == m.base.empty())
    return AssertionFailure() << generation << ": base '" << m.base << "' wrong for kind " << m.kind;
  std::set<std::string> listed = {"manifest.json"};
  for (const ManifestFileEntry& f : m.files) {
    listed.insert(f.name);
    const std::string path = sink_dir + "/" + generation + "/" + f.name;
    if (!fs::exists(path)) return AssertionFailure() << generation << ": file " << f.name << " missing";
    std::string bytes = ReadFileOrEmpty(path);
    if (bytes.size() != f.size)
      return AssertionFailure() << generation << "/" << f.name << ": size " << bytes.size() << ", manifest says "
                                << f.size;
    std::string digest = Hex64(XXH64(bytes.data(), bytes.size(), 0));
    if (digest != f.xxh64)
      return AssertionFailure() << generation << "/" << f.name << ": xxh64 " << digest << ", manifest says "
                                << f.xxh64;
  }
  for (const auto& [name, bytes] : ReadTree(sink_dir + "/" + generation)) {
    if (!listed.count(name)) return AssertionFailure() << generation << ": unlisted object " << name;
  }
  return AssertionSuccess();
}

AssertionResult CheckSinkConsistent(const std::string& sink_dir) {
  // CURRENT is the one durable state; freshet 0.1's separate copy of the
  // checkpoint is never written.
  if (fs::exists(sink_dir + "/_freshet/checkpoint.json"))
    return AssertionFailure() << sink_dir << "/_freshet/checkpoint.json exists";
  std::optional<SinkCurrent> current;
  if (AssertionResult r = ReadCurrent(sink_dir, &current); !r) return r;
  if (!current) return AssertionSuccess();
  const SinkCurrent& c = *current;
  if (c.full.empty() || c.delta.empty())
    return AssertionFailure() << "CURRENT names no full or no delta: " << c.raw;
  if (c.checkpoint.base_generation != c.full || c.checkpoint.delta_generation != c.delta ||
      c.checkpoint.watermark != c.watermark)
    return AssertionFailure() << "CURRENT's embedded checkpoint disagrees with it: " << c.raw;
  for (const std::string* g : {&c.full, &c.delta}) {
    if (AssertionResult r = CheckGeneration(sink_dir, *g); !r) return r << " (named by CURRENT)";
  }
  GenerationManifest delta;
  if (AssertionResult r = ReadManifest(sink_dir, c.delta, &delta); !r) return r;
  if (delta.base != c.full)
    return AssertionFailure() << "CURRENT's delta " << c.delta << " has base " << delta.base << ", CURRENT's full is "
                              << c.full;
  if (!c.watermark || delta.watermark != *c.watermark)
    return AssertionFailure() << "CURRENT watermark " << c.watermark.value_or("null") << " vs delta manifest's "
                              << delta.watermark;
  return AssertionSuccess();
}

AssertionResult ReadProgress(const std::string& sink_dir, SinkProgress* out) {
  std::optional<SinkCurrent> current;
  if (AssertionResult r = ReadCurrent(sink_dir, &current); !r) return r;
  out->current_watermark = current ? WatermarkSeconds(current->watermark) : std::nullopt;
  return AssertionSuccess();
}

AssertionResult ProgressNotRegressed(const SinkProgress& before, const SinkProgress& after) {
  auto show = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("none"); };
  if (before.current_watermark && (!after.current_watermark || *after.current_watermark < *before.current_watermark))
    return AssertionFailure() << "CURRENT watermark regressed: " << show(before.current_watermark) << " -> "
                              << show(after.current_watermark);
  return AssertionSuccess();
}

std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || IsTempFile(it->path())) continue;
    out[fs::relative(it->path(), dir).string()] = ReadFileOrEmpty(it->path().string());
  }
  return out;
}

size_t CountTempFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && IsTempFile(it->path())) ++n;
  }
  return n;
}

namespace {

AssertionResult SameMaps(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b,
                         const std::string& what) {
  for (const auto& [key, bytes] : a) {
    auto it = b.find(key);
    if (it == b.end()) return AssertionFailure() << what << ": " << key << " only in the first";
    if (it->second != bytes)
      return AssertionFailure() << what << ": " << key << " differs (" << bytes.size() << " vs " << it->second.size()
                                << " bytes)";
  }
  for (const auto& [key, bytes] : b) {
    if (!a.count(key)) return AssertionFailure() << what << ": " << key << " only in the second";
  }
  return AssertionSuccess();
}

}  // namespace

AssertionResult SameLiveBytes(const std::string& sink_a, const std::string& sink_b) {
  std::optional<SinkCurrent> ca, cb;
  if (AssertionResult r = ReadCurrent(sink_a, &ca); !r) return r;
  if (AssertionResult r = ReadCurrent(sink_b, &cb); !r) return r;
  if (!ca || !cb) return AssertionFailure() << "CURRENT missing in " << (!ca ? sink_a : sink_b);
  if (ca->raw != cb->raw) return AssertionFailure() << "CURRENT differs:\n  " << ca->raw << "  " << cb->raw;
  for (const std::string* g : {&ca->full, &ca->delta}) {
    auto ta = ReadTree(sink_a + "/" + *g);
    auto tb = ReadTree(sink_b + "/" + *g);
    if (ta.empty()) return AssertionFailure() << *g << ": no objects";
    if (AssertionResult r = SameMaps(ta, tb, *g); !r) return r;
  }
  return AssertionSuccess();
}

AssertionResult SameTree(const std::string& dir_a, const std::string& dir_b) {
  auto ta = ReadTree(dir_a);
  if (ta.empty()) return AssertionFailure() << dir_a << ": no objects";
  return SameMaps(ta, ReadTree(dir_b), dir_a + " vs " + dir_b);
}

}  // namespace freshet::e2e
