// What the index builder consumes: one document, already analysed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace freshet {

// A term is `field + '\0' + value`: for keyword fields the exact value, for
// text fields one token from Tokenize(). Terms within a doc may repeat; the
// writer dedupes them.
inline std::string MakeTerm(std::string_view field, std::string_view value) {
  std::string t;
  t.reserve(field.size() + 1 + value.size());
  t.append(field);
  t.push_back('\0');
  t.append(value);
  return t;
}

struct IndexDoc {
  std::string id;                  // unique within a segment
  bool tombstone = false;          // shadows the id in older generations; no terms, no stored
  std::vector<std::string> terms;  // see MakeTerm
  std::string stored;              // JSON object text returned by readers ("" for tombstones)
};

}  // namespace freshet
