#include "commit/segment_chain.h"

#include <algorithm>
#include <map>

namespace freshet {

Status CheckChainLinks(const std::vector<Manifest>& chain, const std::string& base) {
  for (size_t i = 0; i < chain.size(); ++i) {
    const Manifest& m = chain[i];
    const std::string where = "delta chain segment " + std::to_string(i) + " (" + m.generation + ")";
    if (m.kind != "delta") return Status::DataLoss(where + " is a " + m.kind + ", not a delta");
    if (m.base != base) {
      return Status::DataLoss(where + " shadows full '" + m.base + "', not the live full '" + base + "'");
    }
    if (i == 0) {
      if (!m.predecessor.empty()) {
        return Status::DataLoss(where + " names predecessor " + m.predecessor + ", but it starts the chain");
      }
      continue;
    }
    const Manifest& prev = chain[i - 1];
    const bool linked = m.predecessor == prev.generation || (!prev.merged.empty() && m.predecessor == prev.merged.back());
    if (!linked) {
      return Status::DataLoss(where + " names predecessor '" + m.predecessor + "', but the segment before it is " +
                              prev.generation);
    }
  }
  return Status::Ok();
}

std::vector<ObjectInfo> NextWindow(const std::vector<ObjectInfo>& before, const Manifest& segment) {
  std::map<std::string, ObjectInfo> w;
  if (!segment.predecessor.empty()) {
    for (const ObjectInfo& o : before) w[o.key] = o;
    for (const ManifestInput& r : segment.removed) {
      auto it = w.find(r.key);
      if (it != w.end() && it->second.etag == r.etag) w.erase(it);
    }
  }
  for (const ManifestInput& in : segment.inputs) w[in.key] = ObjectInfo{in.key, in.size, in.etag};
  std::vector<ObjectInfo> out;
  out.reserve(w.size());
  for (auto& [key, o] : w) out.push_back(std::move(o));
  return out;
}

Result<std::vector<ObjectInfo>> ChainWindow(const std::vector<Manifest>& chain, const std::string& base) {
  FRESHET_RETURN_IF_ERROR(CheckChainLinks(chain, base));
  std::vector<ObjectInfo> window;
  for (const Manifest& m : chain) window = NextWindow(window, m);
  return window;
}

void NetChange(const std::vector<ObjectInfo>& before, const std::vector<ObjectInfo>& after,
               std::vector<ManifestInput>* inputs, std::vector<ManifestInput>* removed) {
  inputs->clear();
  removed->clear();
  auto a = before.begin();
  auto b = after.begin();
  while (a != before.end() || b != after.end()) {
    if (b == after.end() || (a != before.end() && a->key < b->key)) {
      removed->push_back({a->key, a->size, a->etag});
      ++a;
    } else if (a == before.end() || b->key < a->key) {
      inputs->push_back({b->key, b->size, b->etag});
      ++b;
    } else {
      if (!(*a == *b)) {
        removed->push_back({a->key, a->size, a->etag});
        inputs->push_back({b->key, b->size, b->etag});
      }
      ++a;
      ++b;
    }
  }
}

}  // namespace freshet
