#include "config/config_loader.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "config/option_fields.h"
#include "config/validate_options.h"

namespace freshet {
namespace {

using config_internal::FieldRef;
using config_internal::FieldSpec;

constexpr size_t kMaxConfigBytes = 16 << 20;
constexpr int kMaxDepth = 32;  // configs nest 4 deep; this only stops abuse
constexpr size_t kMaxShownKey = 64;

// ---- A small JSON tree that remembers where each value starts ----------
//
// rapidjson's DOM does not keep source offsets, so a SAX handler builds this
// tree instead, reading the stream position at every event. That keeps the
// "line:column" of every key and value exact, with no second parse.

struct JsonMember;

struct JsonNode {
  enum class Kind { kNull, kBool, kNegInt, kUint, kDouble, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  size_t offset = 0;  // first byte of the token in the input
  bool b = false;
  int64_t i = 0;      // kNegInt
  uint64_t u = 0;     // kUint
  double d = 0;       // kDouble
  std::string s;      // kString
  std::vector<JsonMember> members;  // kObject, in input order
  std::vector<JsonNode> elements;   // kArray
};

struct JsonMember {
  std::string key;
  size_t key_offset = 0;
  JsonNode value;
};

std::string_view KindName(JsonNode::Kind k) {
  switch (k) {
    case JsonNode::Kind::kNull: return "null";
    case JsonNode::Kind::kBool: return "a boolean";
    case JsonNode::Kind::kNegInt:
    case JsonNode::Kind::kUint:
    case JsonNode::Kind::kDouble: return "a number";
    case JsonNode::Kind::kString: return "a string";
    case JsonNode::Kind::kObject: return "an object";
    case JsonNode::Kind::kArray: return "an array";
  }
  return "a value";
}

// Keys and values come from the user's file; keep messages one short line.
std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxShownKey)) {
    unsigned char uc = static_cast<unsigned char>(c);
    if (uc < 0x20 || uc == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", uc);
      out += buf;
    } else {
      out += c;
    }
  }
  if (s.size() > kMaxShownKey) out += "...";
  return out;
}

// Positions (in the whole input) back from the end of a token to its start.
size_t TokenStart(std::string_view text, size_t end, JsonNode::Kind kind) {
  if (end == 0 || end > text.size()) return std::min(end, text.size());
  switch (kind) {
    case JsonNode::Kind::kObject:
    case JsonNode::Kind::kArray:
      return end - 1;  // just past '{' / '['
    case JsonNode::Kind::kString: {
      // end is just past the closing quote. Inside a string every '"' is
      // escaped (odd run of backslashes); the opening one is not.
      size_t p = end - 1;
      while (p > 0) {
        --p;
        if (text[p] != '"') continue;
        size_t backslashes = 0;
        while (p > backslashes && text[p - 1 - backslashes] == '\\') ++backslashes;
        if (backslashes % 2 == 0) return p;
      }
      return 0;
    }
    default: {
      size_t p = end;
      while (p > 0 && text[p - 1] != '\0' && std::strchr("0123456789+-.eEtruefalsn", text[p - 1]) != nullptr)
        --p;
      return p;
    }
  }
}

class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
 public:
  TreeBuilder(std::string_view text, size_t base, const rapidjson::MemoryStream* stream)
      : text_(text), base_(base), stream_(stream) {}

  bool Null() { return Scalar(JsonNode{.kind = JsonNode::Kind::kNull}); }
  bool Bool(bool b) { return Scalar(JsonNode{.kind = JsonNode::Kind::kBool, .b = b}); }
  bool Int(int v) { return Int64(v); }
  bool Uint(unsigned v) { return Uint64(v); }
  bool Int64(int64_t v) {
    if (v >= 0) return Uint64(static_cast<uint64_t>(v));
    return Scalar(JsonNode{.kind = JsonNode::Kind::kNegInt, .i = v});
  }
  bool Uint64(uint64_t v) { return Scalar(JsonNode{.kind = JsonNode::Kind::kUint, .u = v}); }
  bool Double(double v) { return Scalar(JsonNode{.kind = JsonNode::Kind::kDouble, .d = v}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Scalar(JsonNode{.kind = JsonNode::Kind::kString, .s = std::string(s, n)});
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    pending_key_.assign(s, n);
    pending_key_offset_ = TokenStart(text_, Here(), JsonNode::Kind::kString);
    return true;
  }
  bool StartObject() { return Open(JsonNode::Kind::kObject); }
  bool StartArray() { return Open(JsonNode::Kind::kArray); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  bool too_deep() const { return too_deep_; }
  JsonNode TakeRoot() { return std::move(root_); }

 private:
  size_t Here() const { return base_ + stream_->Tell(); }

  bool Open(JsonNode::Kind kind) {
    if (open_.size() >= kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    JsonNode n{.kind = kind, .offset = TokenStart(text_, Here(), kind)};
    open_.push_back(OpenContainer{std::move(n), std::move(pending_key_), pending_key_offset_});
    return true;
  }
  bool Close() {
    OpenContainer top = std::move(open_.back());
    open_.pop_back();
    pending_key_ = std::move(top.key);
    pending_key_offset_ = top.key_offset;
    return Attach(std::move(top.node));
  }
  bool Scalar(JsonNode n) {
    n.offset = TokenStart(text_, Here(), n.kind);
    return Attach(std::move(n));
  }
  bool Attach(JsonNode n) {
    if (open_.empty()) {
      root_ = std::move(n);
    } else if (open_.back().node.kind == JsonNode::Kind::kObject) {
      open_.back().node.members.push_back(JsonMember{std::move(pending_key_), pending_key_offset_, std::move(n)});
    } else {
      open_.back().node.elements.push_back(std::move(n));
    }
    return true;
  }

  struct OpenContainer {
    JsonNode node;
    std::string key;  // key this container is the value of, if any
    size_t key_offset;
  };

  std::string_view text_;
  size_t base_;  // offset of the stream's first byte in text_ (after a BOM)
  const rapidjson::MemoryStream* stream_;
  std::vector<OpenContainer> open_;
  std::string pending_key_;
  size_t pending_key_offset_ = 0;
  JsonNode root_;
  bool too_deep_ = false;
};

// ---- Offsets to "line:column" -----------------------------------------

class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
  }
  std::string Where(size_t offset) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    size_t line = static_cast<size_t>(it - starts_.begin());  // 1-based
    size_t col = offset - *(it - 1) + 1;
    return std::to_string(line) + ":" + std::to_string(col);
  }

 private:
  std::vector<size_t> starts_;
};

// ---- Tree to Options ----------------------------------------------------

class Mapper {
 public:
  Mapper(std::string_view origin, const LineIndex& lines) : origin_(origin), lines_(lines) {}

  Status MapRoot(const JsonNode& root, Options* out) {
    if (root.kind != JsonNode::Kind::kObject)
      return Error(root.offset, "the config must be a JSON object, not " + std::string(KindName(root.kind)));
    bool have_schema = false;
    std::set<std::string_view> seen;
    for (const JsonMember& m : root.members) {
      FRESHET_RETURN_IF_ERROR(CheckDuplicate(&seen, m, ""));
      const config_internal::SectionSpec* section = nullptr;
      for (const auto& s : config_internal::Sections())
        if (s.name == m.key) section = &s;
      if (section == nullptr) return UnknownTopLevel(m);
      if (m.value.kind != JsonNode::Kind::kObject)
        return Error(m.value.offset, section->name, "expected an object, got " + std::string(KindName(m.value.kind)));
      if (section->name == "schema") {
        have_schema = true;
        out->schema = SchemaOptions{};
      }
      FRESHET_RETURN_IF_ERROR(MapObject(m.value, std::string(section->name), section->fields, out));
    }
    if (!have_schema) out->schema = DefaultAdsSchema();
    return Status::Ok();
  }

 private:
  Status Error(size_t offset, std::string_view key, std::string_view problem) const {
    return Status::InvalidArgument(std::string(origin_) + ":" + lines_.Where(offset) + ": " + std::string(key) +
                                   ": " + std::string(problem));
  }
  Status Error(size_t offset, std::string_view problem) const {
    return Status::InvalidArgument(std::string(origin_) + ":" + lines_.Where(offset) + ": " + std::string(problem));
  }

  Status CheckDuplicate(std::set<std::string_view>* seen, const JsonMember& m, std::string_view prefix) const {
    if (!seen->insert(m.key).second)
      return Error(m.key_offset, std::string(prefix) + Shown(m.key), "duplicate key");
    return Status::Ok();
  }

  Status UnknownTopLevel(const JsonMember& m) const {
    std::vector<std::string_view> names;
    for (const auto& s : config_internal::Sections()) names.push_back(s.name);
    std::string msg = "unknown section \"" + Shown(m.key) + "\"";
    std::string_view close = m.key.size() <= kMaxShownKey ? config_internal::ClosestMatch(m.key, names) : "";
    if (!close.empty()) {
      msg += "; did you mean " + std::string(close) + "?";
    } else if (std::string home = SectionHolding(m.key); !home.empty()) {
      msg += "; did you mean " + home + "." + m.key + "?";
    } else {
      msg += " (sections: source, sink, schema, pipeline, watchdog, log, admin, s3)";
    }
    return Error(m.key_offset, msg);
  }

  // The section that has a key spelled exactly `key`, for keys put in the
  // wrong section ("pipeline.heartbeat_interval" -> watchdog).
  static std::string SectionHolding(std::string_view key) {
    for (const auto& s : config_internal::Sections())
      for (const auto& f : s.fields)
        if (f.key == key) return std::string(s.name);
    return "";
  }

  template <typename Struct>
  Status MapObject(const JsonNode& obj, const std::string& path, std::span<const FieldSpec<Struct>> fields,
                   Struct* out) {
    std::set<std::string_view> seen;
    for (const JsonMember& m : obj.members) {
      FRESHET_RETURN_IF_ERROR(CheckDuplicate(&seen, m, path + "."));
      const FieldSpec<Struct>* spec = nullptr;
      for (const auto& f : fields)
        if (f.key == m.key) spec = &f;
      if (spec == nullptr) return UnknownKey(m, path, fields);
      FRESHET_RETURN_IF_ERROR(MapValue(m.value, path + "." + m.key, spec->ref(*out)));
    }
    return Status::Ok();
  }

  template <typename Struct>
  Status UnknownKey(const JsonMember& m, const std::string& path, std::span<const FieldSpec<Struct>> fields) const {
    std::vector<std::string_view> names;
    for (const auto& f : fields) names.push_back(f.key);
    std::string key = path + "." + Shown(m.key);
    std::string msg = "unknown key";
    std::string_view close = m.key.size() <= kMaxShownKey ? config_internal::ClosestMatch(m.key, names) : "";
    if (!close.empty()) {
      msg += "; did you mean " + path + "." + std::string(close) + "?";
    } else if (std::string home = SectionHolding(m.key); !home.empty() && path.find('.') == std::string::npos) {
      msg += "; did you mean " + home + "." + m.key + "?";
    } else {
      msg += " (known keys:";
      for (std::string_view n : names) msg += " " + std::string(n);
      msg += ")";
    }
    return Error(m.key_offset, key, msg);
  }

  Status TypeError(const JsonNode& v, const std::string& key, std::string_view expected) const {
    std::string got(KindName(v.kind));
    if (v.kind == JsonNode::Kind::kString) got += " (\"" + Shown(v.s) + "\")";
    return Error(v.offset, key, "expected " + std::string(expected) + ", got " + got);
  }

  // Integers may also be written as whole doubles ("1e6").
  template <typename T>
  Status MapUnsigned(const JsonNode& v, const std::string& key, T* out) const {
    constexpr uint64_t kMax = std::numeric_limits<T>::max();
    const std::string range = "a whole number in 0.." + std::to_string(kMax);
    switch (v.kind) {
      case JsonNode::Kind::kUint:
        if (v.u > kMax) return Error(v.offset, key, std::to_string(v.u) + " is out of range; expected " + range);
        *out = static_cast<T>(v.u);
        return Status::Ok();
      case JsonNode::Kind::kNegInt:
        return Error(v.offset, key, std::to_string(v.i) + " is negative; expected " + range);
      case JsonNode::Kind::kDouble:
        if (std::isfinite(v.d) && v.d >= 0 && v.d == std::floor(v.d) && v.d <= static_cast<double>(kMax) &&
            v.d < 9007199254740992.0) {
          *out = static_cast<T>(v.d);
          return Status::Ok();
        }
        return Error(v.offset, key, "expected " + range);
      default:
        return TypeError(v, key, range);
    }
  }

  Status MapStringList(const JsonNode& v, const std::string& key, std::vector<std::string>* out) const {
    if (v.kind != JsonNode::Kind::kArray) return TypeError(v, key, "an array of strings");
    out->clear();
    for (size_t i = 0; i < v.elements.size(); ++i) {
      const JsonNode& e = v.elements[i];
      if (e.kind != JsonNode::Kind::kString)
        return TypeError(e, key + "[" + std::to_string(i) + "]", "a string");
      out->push_back(e.s);
    }
    return Status::Ok();
  }

  Status MapLevels(const JsonNode& v, const std::string& key, std::vector<LevelOptions>* out) {
    if (v.kind != JsonNode::Kind::kArray) return TypeError(v, key, "an array of level objects");
    out->clear();
    for (size_t i = 0; i < v.elements.size(); ++i) {
      const JsonNode& e = v.elements[i];
      std::string path = key + "[" + std::to_string(i) + "]";
      if (e.kind != JsonNode::Kind::kObject)
        return TypeError(e, path, "an object {name, parent_field, status_field, active_values, inherit}");
      LevelOptions level;
      FRESHET_RETURN_IF_ERROR(MapObject(e, path, config_internal::LevelFields(), &level));
      out->push_back(std::move(level));
    }
    return Status::Ok();
  }

  Status MapValue(const JsonNode& v, const std::string& key, const FieldRef& ref) {
    if (auto* p = std::get_if<std::string*>(&ref)) {
      if (v.kind != JsonNode::Kind::kString) return TypeError(v, key, "a string");
      **p = v.s;
      return Status::Ok();
    }
    if (auto* p = std::get_if<Duration*>(&ref)) {
      if (v.kind != JsonNode::Kind::kString) {
        std::string hint = "a duration string such as \"30s\", \"5m\" or \"1h30m\"";
        if (v.kind == JsonNode::Kind::kUint || v.kind == JsonNode::Kind::kNegInt || v.kind == JsonNode::Kind::kDouble)
          hint += " (a bare number has no unit)";
        return TypeError(v, key, hint);
      }
      auto d = config_internal::ParseConfigDuration(v.s);
      if (!d.ok()) return Error(v.offset, key, d.status().message());
      **p = *d;
      return Status::Ok();
    }
    if (auto* p = std::get_if<uint32_t*>(&ref)) return MapUnsigned(v, key, *p);
    if (auto* p = std::get_if<uint64_t*>(&ref)) return MapUnsigned(v, key, *p);
    if (auto* p = std::get_if<double*>(&ref)) {
      switch (v.kind) {
        case JsonNode::Kind::kUint: **p = static_cast<double>(v.u); return Status::Ok();
        case JsonNode::Kind::kNegInt: **p = static_cast<double>(v.i); return Status::Ok();
        case JsonNode::Kind::kDouble: **p = v.d; return Status::Ok();
        default: return TypeError(v, key, "a number");
      }
    }
    if (auto* p = std::get_if<bool*>(&ref)) {
      if (v.kind != JsonNode::Kind::kBool) return TypeError(v, key, "true or false");
      **p = v.b;
      return Status::Ok();
    }
    if (std::holds_alternative<TriggerMode*>(ref) || std::holds_alternative<PlanPolicy*>(ref)) {
      const char* choices = std::holds_alternative<TriggerMode*>(ref)
                                ? "one of \"interval\", \"continuous\", \"once\", \"available_now\""
                                : "one of \"latest\", \"sequential\"";
      if (v.kind != JsonNode::Kind::kString) return TypeError(v, key, choices);
      Status st = config_internal::SetScalarFromString(v.s, ref);
      if (!st.ok()) return Error(v.offset, key, st.message());
      return Status::Ok();
    }
    if (auto* p = std::get_if<std::vector<std::string>*>(&ref)) return MapStringList(v, key, *p);
    if (auto* p = std::get_if<std::vector<LevelOptions>*>(&ref)) return MapLevels(v, key, *p);
    return Status::Internal(key + ": unhandled field kind");
  }

  std::string_view origin_;
  const LineIndex& lines_;
};

}  // namespace

std::string_view TriggerModeName(TriggerMode mode) {
  switch (mode) {
    case TriggerMode::kInterval: return "interval";
    case TriggerMode::kContinuous: return "continuous";
    case TriggerMode::kOnce: return "once";
    case TriggerMode::kAvailableNow: return "available_now";
  }
  return "unknown";
}

std::string_view PlanPolicyName(PlanPolicy policy) {
  switch (policy) {
    case PlanPolicy::kLatest: return "latest";
    case PlanPolicy::kSequential: return "sequential";
  }
  return "unknown";
}

Result<Options> LoadOptionsFromString(std::string_view json, std::string_view origin) {
  const LineIndex lines(json);
  auto error_at = [&](size_t offset, const std::string& msg) {
    return Status::InvalidArgument(std::string(origin) + ":" + lines.Where(offset) + ": " + msg);
  };
  // rapidjson's streams read '\0' as end of input, so an embedded NUL would
  // silently truncate the config.
  if (size_t nul = json.find('\0'); nul != std::string_view::npos)
    return error_at(nul, "NUL byte in config text");
  size_t base = 0;
  if (json.substr(0, 3) == "\xEF\xBB\xBF") base = 3;  // UTF-8 byte order mark

  // MemoryStream has no copy optimisation, so Tell() is exact inside handlers.
  rapidjson::MemoryStream stream(json.data() + base, json.size() - base);
  TreeBuilder builder(json, base, &stream);
  rapidjson::Reader reader;
  // No kParseFullPrecisionFlag: rapidjson 1.1's full-precision path reads
  // a zero with an exponent ("0e5") as garbage (ingest/json_text.h), and a
  // config's numbers need no last-bit exactness.
  constexpr unsigned kFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
                              rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (!ok) {
    size_t offset = base + ok.Offset();
    if (builder.too_deep())
      return error_at(offset, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    return error_at(offset, rapidjson::GetParseError_En(ok.Code()));
  }
  Options options;
  Mapper mapper(origin, lines);
  FRESHET_RETURN_IF_ERROR(mapper.MapRoot(builder.TakeRoot(), &options));
  return options;
}

Result<Options> LoadOptionsFromFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    int err = errno;
    std::string msg = "cannot open config file " + path + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::InvalidArgument(msg);
  }
  std::string text;
  char buf[64 * 1024];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxConfigBytes)
      return Status::InvalidArgument("config file " + path + " is larger than 16 MiB");
  }
  if (std::ferror(f.get()))
    return Status::InvalidArgument("cannot read config file " + path + ": " + std::strerror(errno));
  return LoadOptionsFromString(text, path);
}

Status ApplyEnvOverrides(Options* options, const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& section : config_internal::Sections()) {
    if (!section.env_overridable) continue;
    for (const auto& field : section.fields) {
      FieldRef ref = field.ref(*options);
      if (!config_internal::IsScalar(ref)) continue;
      std::string var = "FRESHET_";
      for (char c : section.name) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      var += '_';
      for (char c : field.key) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const char* value = getenv_fn(var.c_str());
      if (value == nullptr) continue;
      Status st = config_internal::SetScalarFromString(value, ref);
      if (!st.ok())
        return Status::InvalidArgument(var + " (overrides " + std::string(section.name) + "." +
                                       std::string(field.key) + "): " + st.message());
    }
  }
  return Status::Ok();
}

Result<Options> LoadEffectiveOptions(const std::string& path,
                                     const std::function<const char*(const char*)>& getenv_fn) {
  FRESHET_ASSIGN_OR_RETURN(Options options, LoadOptionsFromFile(path));
  FRESHET_RETURN_IF_ERROR(ApplyEnvOverrides(&options, getenv_fn));
  FRESHET_RETURN_IF_ERROR(ValidateOptions(options).WithContext(path));
  return options;
}

}  // namespace freshet
