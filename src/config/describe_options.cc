#include "config/describe_options.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "config/config_loader.h"
#include "config/option_fields.h"
#include "config/schema_hash.h"
#include "freshet/time.h"

namespace freshet {
namespace {

using config_internal::FieldRef;

std::string JsonQuoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char uc = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uc < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", uc);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string FormatList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + JsonQuoted(v[i]);
  return out + "]";
}

std::string FormatDouble(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  // Prefer the shortest spelling that reads back the same ("0.01", not
  // "0.01000000000000000021").
  for (int prec = 1; prec <= 17; ++prec) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", prec, d);
    if (std::strtod(shorter, nullptr) == d) return shorter;
  }
  return buf;
}

// Levels are printed by the caller; every other kind is one value.
std::string FormatValue(const FieldRef& ref) {
  struct Visitor {
    std::string operator()(std::string* s) const { return JsonQuoted(*s); }
    std::string operator()(Duration* d) const { return FormatDuration(*d); }
    std::string operator()(uint32_t* v) const { return std::to_string(*v); }
    std::string operator()(uint64_t* v) const { return std::to_string(*v); }
    std::string operator()(double* v) const { return FormatDouble(*v); }
    std::string operator()(bool* b) const { return *b ? "true" : "false"; }
    std::string operator()(TriggerMode* m) const { return std::string(TriggerModeName(*m)); }
    std::string operator()(PlanPolicy* p) const { return std::string(PlanPolicyName(*p)); }
    std::string operator()(std::vector<std::string>* v) const { return FormatList(*v); }
    std::string operator()(std::vector<LevelOptions>* v) const { return std::to_string(v->size()) + " levels"; }
  };
  return std::visit(Visitor{}, ref);
}

void Line(std::string* out, const std::string& key, const FieldRef& ref) {
  std::string value;
  if (LooksLikeSecretKey(key)) {
    auto* s = std::get_if<std::string*>(&ref);
    value = (s != nullptr && (*s)->empty()) ? "\"\"" : "****** (hidden)";
  } else if (auto* s = std::get_if<std::string*>(&ref); s != nullptr && key.ends_with(".uri")) {
    value = JsonQuoted(MaskUriUserInfo(**s));
  } else {
    value = FormatValue(ref);
  }
  *out += key + " = " + value + "\n";
}

}  // namespace

bool LooksLikeSecretKey(std::string_view dotted_key) {
  std::string lower(dotted_key);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("secret") != std::string::npos || lower.find("token") != std::string::npos ||
         lower.find("password") != std::string::npos || lower.find("customer_key") != std::string::npos;
}

std::string MaskUriUserInfo(std::string_view uri) {
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) return std::string(uri);
  size_t auth_begin = sep + 3;
  size_t auth_end = uri.find('/', auth_begin);
  if (auth_end == std::string_view::npos) auth_end = uri.size();
  size_t at = uri.rfind('@', auth_end == 0 ? 0 : auth_end - 1);
  if (at == std::string_view::npos || at < auth_begin) return std::string(uri);
  return std::string(uri.substr(0, auth_begin)) + "***" + std::string(uri.substr(at));
}

std::string DescribeOptions(const Options& options) {
  Options copy = options;  // the field table hands out mutable pointers
  std::string out = "# freshet effective configuration (defaults included)\n";
  for (const auto& section : config_internal::Sections()) {
    for (const auto& field : section.fields) {
      const std::string key = std::string(section.name) + "." + std::string(field.key);
      FieldRef ref = field.ref(copy);
      if (auto* levels = std::get_if<std::vector<LevelOptions>*>(&ref)) {
        if ((*levels)->empty()) out += key + " = [] (flat schema: every record is a document)\n";
        for (size_t i = 0; i < (*levels)->size(); ++i) {
          for (const auto& lf : config_internal::LevelFields()) {
            Line(&out, key + "[" + std::to_string(i) + "]." + std::string(lf.key), lf.ref((**levels)[i]));
          }
        }
        continue;
      }
      Line(&out, key, ref);
    }
    if (section.name == "schema") out += "schema.hash = " + SchemaHash(copy.schema) + "\n";
  }
  return out;
}

}  // namespace freshet
