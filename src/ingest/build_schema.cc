#include "ingest/build_schema.h"

#include <algorithm>

namespace freshet {
namespace {

void AppendUnique(std::vector<uint32_t>* out, int index) {
  if (index < 0) return;
  const auto u = static_cast<uint32_t>(index);
  if (std::find(out->begin(), out->end(), u) == out->end()) out->push_back(u);
}

}  // namespace

int BuildSchema::FieldIndex(std::string_view name) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), name,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  if (it == fields.end() || *it != name) return -1;
  return static_cast<int>(it - fields.begin());
}

int BuildSchema::LevelIndex(std::string_view type) const {
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].name == type) return static_cast<int>(i);
  }
  return -1;
}

BuildSchema CompileBuildSchema(const SchemaOptions& options) {
  BuildSchema s;
  s.options = options;
  s.levels = options.levels;
  if (s.levels.empty()) s.levels.push_back(LevelOptions{});
  // Levels are addressed by uint16_t; a deeper hierarchy is not a real config.
  if (s.levels.size() > 0xffff) s.levels.resize(0xffff);
  s.leaf = static_cast<uint16_t>(s.levels.size() - 1);
  s.typed = !options.levels.empty() && !options.type_field.empty();
  s.placeable = s.typed || s.levels.size() == 1;

  for (const auto& f : options.text_fields) s.fields.push_back(f);
  for (const auto& f : options.keyword_fields) s.fields.push_back(f);
  for (const auto& f : options.stored_fields) s.fields.push_back(f);
  for (const auto& level : s.levels) {
    for (const auto& f : level.inherit) s.fields.push_back(f);
  }
  std::sort(s.fields.begin(), s.fields.end());
  s.fields.erase(std::unique(s.fields.begin(), s.fields.end()), s.fields.end());

  for (const auto& f : options.text_fields) AppendUnique(&s.text, s.FieldIndex(f));
  for (const auto& f : options.keyword_fields) AppendUnique(&s.keyword, s.FieldIndex(f));
  for (const auto& f : options.stored_fields) {
    if (f != "id") AppendUnique(&s.stored, s.FieldIndex(f));
  }

  const size_t n = s.fields.size();
  std::vector<bool> is_text(n), is_keyword(n);
  for (uint32_t f : s.text) is_text[f] = true;
  for (uint32_t f : s.keyword) is_keyword[f] = true;

  s.inherit.assign(s.levels.size(), std::vector<bool>(n));
  s.kept.assign(s.levels.size(), std::vector<bool>(n));
  s.text_checked.resize(s.levels.size());
  s.keyword_checked.resize(s.levels.size());
  for (size_t l = 0; l < s.levels.size(); ++l) {
    if (l == s.leaf) {
      for (uint32_t f : s.text) s.kept[l][f] = true;
      for (uint32_t f : s.keyword) s.kept[l][f] = true;
      for (uint32_t f : s.stored) s.kept[l][f] = true;
    } else {
      for (const auto& name : s.levels[l].inherit) {
        const int f = s.FieldIndex(name);
        s.inherit[l][f] = true;
        s.kept[l][f] = true;
      }
    }
    for (uint32_t f = 0; f < n; ++f) {
      if (!s.kept[l][f]) continue;
      if (is_text[f]) s.text_checked[l].push_back(f);
      if (is_keyword[f]) s.keyword_checked[l].push_back(f);
    }
  }
  return s;
}

}  // namespace freshet
