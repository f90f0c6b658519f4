// A brute-force model of S3 ListObjectsV2, written independently of
// list_emulation.cc (no pruning, no seeking), for checking the stores.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "storage/object_key.h"

namespace freshet::testing {

struct ModelEntry {
  std::string name;  // key or common prefix
  bool is_prefix;
  friend bool operator==(const ModelEntry&, const ModelEntry&) = default;
};

// Every entry of a full listing, in order. `keys` need not be sorted.
inline std::vector<ModelEntry> ModelListing(std::vector<std::string> keys, const std::string& prefix,
                                            const std::string& start_after, const std::string& delimiter) {
  std::sort(keys.begin(), keys.end());  // std::string compares bytewise (char_traits<char>::lt is unsigned)
  std::vector<ModelEntry> out;
  for (const std::string& k : keys) {
    if (k.compare(0, prefix.size(), prefix) != 0 || k.size() < prefix.size()) continue;
    if (!(k > start_after)) continue;
    if (!delimiter.empty()) {
      size_t pos = k.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        std::string cp = k.substr(0, pos + delimiter.size());
        bool seen = false;
        for (const ModelEntry& e : out) seen = seen || (e.is_prefix && e.name == cp);
        if (!seen) out.push_back({cp, true});
        continue;
      }
    }
    out.push_back({k, false});
  }
  // Entries sort by name: a common prefix sorts where its first key does.
  std::sort(out.begin(), out.end(), [](const ModelEntry& a, const ModelEntry& b) { return a.name < b.name; });
  return out;
}

// Random keys made of pieces that stress bytewise ordering against
// directory structure ('-' < '.' < '/' < '0' < 'a' < multi-byte UTF-8),
// valid for every store and free of file/directory conflicts ("a" and
// "a/b" together), which a LocalStore cannot represent.
inline std::vector<std::string> RandomKeys(std::mt19937& rng, size_t count) {
  static const char* kPieces[] = {"a", "b", "-", ".", "/", "/", "0", "~", "\xc3\xa9" /* é */,
                                  "\xe6\x97\xa5" /* 日 */, "a-b", "a.b", "a/b", " ", "Z", "_"};
  std::vector<std::string> keys;
  for (size_t attempts = 0; keys.size() < count && attempts < count * 50; ++attempts) {
    std::string k;
    int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) k += kPieces[rng() % (sizeof kPieces / sizeof kPieces[0])];
    if (!ValidateObjectKey(k).ok()) continue;
    bool conflict = false;
    for (const std::string& other : keys) {
      if (other == k || other.starts_with(k + "/") || k.starts_with(other + "/")) conflict = true;
    }
    if (!conflict) keys.push_back(k);
  }
  return keys;
}

// A prefix/start-after candidate: often a cut of an existing key (which
// may end mid-name), sometimes an arbitrary short string or "".
inline std::string RandomCut(std::mt19937& rng, const std::vector<std::string>& keys) {
  switch (rng() % 5) {
    case 0:
      return "";
    case 1: {
      static const char* kOdd[] = {"a", "a/", "a-", "a.", "b/", "-", "/", "\xc3", "\xff", "a/b/"};
      return kOdd[rng() % (sizeof kOdd / sizeof kOdd[0])];
    }
    default: {
      const std::string& k = keys[rng() % keys.size()];
      return k.substr(0, rng() % (k.size() + 1));
    }
  }
}

}  // namespace freshet::testing
