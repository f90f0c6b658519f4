#include "build/doc_assembler.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "build/build_schema.h"
#include "build/json_text.h"
#include "index/tokenizer.h"

namespace freshet {
namespace {

class Assembler {
 public:
  explicit Assembler(const SchemaOptions& options) : s_(CompileBuildSchema(options)) {}

  uint16_t leaf_level() const { return s_.leaf; }

  // Fills chain_ with the leaf and its ancestors (nearest first) as `lookup`
  // resolves them; returns whether the leaf is servable. Stops at the first
  // missing, deleted or inactive link.
  template <typename Lookup>
  bool ResolveChain(const EntityRecord& leaf, const Lookup& lookup) {
    chain_.clear();
    chain_.push_back(&leaf);
    if (leaf.deleted || !leaf.active) return false;
    const EntityRecord* child = &leaf;
    for (int level = static_cast<int>(leaf.level) - 1; level >= 0; --level) {
      if (child->parent_id.empty()) return false;
      const EntityRecord* parent = lookup(static_cast<uint16_t>(level), child->parent_id);
      if (parent == nullptr || parent->deleted || !parent->active) return false;
      chain_.push_back(parent);
      child = parent;
    }
    return true;
  }

  // The document for the chain ResolveChain just filled (and found servable).
  IndexDoc MakeDoc(DocBuildStats* stats) {
    IndexDoc doc;
    const EntityRecord& leaf = *chain_.front();
    doc.id = leaf.id;
    // Documents of one schema have similar term counts; one allocation
    // instead of log2(n) regrowths.
    doc.terms.reserve(last_term_count_ + last_term_count_ / 4);
    for (uint32_t f : s_.text) {
      const std::string_view v = Resolve(f);
      if (v.empty()) continue;
      Result<std::vector<std::string>> tokens = Tokenize(JsonStringValue(v, &scratch_));
      if (!tokens.ok()) {
        // Unreachable for parsed records (their text is checked UTF-8);
        // counted rather than failing the whole build.
        ++stats->token_errors;
        continue;
      }
      for (const std::string& token : *tokens) doc.terms.push_back(MakeTerm(s_.fields[f], token));
    }
    for (uint32_t f : s_.keyword) {
      const std::string_view v = Resolve(f);
      if (v.empty()) continue;
      parts_.clear();
      SplitCanonicalScalars(v, &parts_);
      for (std::string_view p : parts_) {
        doc.terms.push_back(MakeTerm(s_.fields[f], p.front() == '"' ? JsonStringValue(p, &scratch_) : p));
      }
    }
    doc.stored.reserve(leaf.fields_json.size() + 16);
    doc.stored.append("{\"id\":");
    AppendJsonString(&doc.stored, leaf.id);
    for (uint32_t f : s_.stored) {
      const std::string_view v = Resolve(f);
      if (v.empty()) continue;
      doc.stored.push_back(',');
      AppendJsonString(&doc.stored, s_.fields[f]);
      doc.stored.push_back(':');
      doc.stored.append(v);
    }
    doc.stored.push_back('}');
    last_term_count_ = doc.terms.size();
    stats->terms += doc.terms.size();
    ++stats->docs;
    return doc;
  }

  static IndexDoc Tombstone(const std::string& id, DocBuildStats* stats) {
    IndexDoc doc;
    doc.id = id;
    doc.tombstone = true;
    ++stats->tombstones;
    return doc;
  }

 private:
  // Catalog field f of the joined document: the leaf's own value, else the
  // nearest ancestor that inherits it down; "" when none has it.
  std::string_view Resolve(uint32_t f) const {
    const std::string_view own = chain_.front()->field(f);
    if (!own.empty()) return own;
    for (size_t k = 1; k < chain_.size(); ++k) {
      const EntityRecord* r = chain_[k];
      if (r->level < s_.inherit.size() && s_.inherit[r->level][f]) {
        const std::string_view v = r->field(f);
        if (!v.empty()) return v;
      }
    }
    return {};
  }

  BuildSchema s_;
  std::vector<const EntityRecord*> chain_;
  std::string scratch_;
  std::vector<std::string_view> parts_;
  size_t last_term_count_ = 0;
};

}  // namespace

std::vector<IndexDoc> BuildFullDocs(const SchemaOptions& schema, const EntityTable& snapshot,
                                    DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  Assembler a(schema);
  auto lookup = [&snapshot](uint16_t level, std::string_view id) { return snapshot.Find(level, id); };
  std::vector<IndexDoc> docs;
  stats->entities += snapshot.size();
  const auto [begin, end] = snapshot.Level(a.leaf_level());
  for (const EntityRecord* r = begin; r != end; ++r) {
    ++stats->leaves;
    if (a.ResolveChain(*r, lookup)) {
      docs.push_back(a.MakeDoc(stats));
    } else {
      ++stats->unservable;
    }
  }
  return docs;  // the leaf run of the table is in id order
}

std::vector<IndexDoc> BuildDeltaDocs(const SchemaOptions& schema, const EntityTable& base,
                                     const EntityTable& window, DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  Assembler a(schema);
  const uint16_t leaf = a.leaf_level();
  auto effective = [&base, &window](uint16_t level, std::string_view id) -> const EntityRecord* {
    const EntityRecord* b = base.Find(level, id);
    const EntityRecord* w = window.Find(level, id);
    if (w == nullptr) return b;
    if (b == nullptr) return w;
    return CompareVersions(*b, *w) > 0 ? b : w;
  };

  // Affected leaves: updated ones, then the descendants of updated
  // ancestors. Views point into the (immutable) tables.
  std::vector<std::string_view> updated;
  std::vector<std::string_view> affected;
  std::vector<std::pair<uint16_t, std::string_view>> pending;
  stats->entities += window.size();
  for (const EntityRecord& w : window.records()) {
    if (w.level > leaf) continue;  // not this schema's record; nothing to join it to
    const EntityRecord* b = base.Find(w.level, w.id);
    if (b != nullptr && CompareVersions(*b, w) > 0) {
      ++stats->stale_updates;
      continue;
    }
    if (w.level == leaf) {
      updated.push_back(w.id);
    } else {
      pending.emplace_back(w.level, w.id);
    }
  }
  std::set<std::pair<uint16_t, std::string_view>> expanded;
  std::vector<const EntityRecord*> kids;
  while (!pending.empty()) {
    const auto [level, id] = pending.back();
    pending.pop_back();
    if (!expanded.emplace(level, id).second) continue;
    const auto child_level = static_cast<uint16_t>(level + 1);
    kids.clear();
    base.ChildrenOf(child_level, id, &kids);
    window.ChildrenOf(child_level, id, &kids);
    for (const EntityRecord* kid : kids) {
      // A child may have moved away in the window (or in the base, when the
      // window's record is stale): only current children count.
      const EntityRecord* current = effective(child_level, kid->id);
      if (current != kid) continue;  // the other table's copy decides (and is listed too, if it is a child)
      if (child_level == leaf) {
        affected.push_back(kid->id);
      } else {
        pending.emplace_back(child_level, kid->id);
      }
    }
  }
  // `updated` is already in id order (window records are sorted).
  stats->leaves_updated += updated.size();
  affected.insert(affected.end(), updated.begin(), updated.end());
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  stats->leaves += affected.size();
  stats->fanout += affected.size() - updated.size();

  std::vector<IndexDoc> docs;
  docs.reserve(affected.size());
  for (std::string_view id : affected) {
    const EntityRecord* r = effective(leaf, id);
    if (a.ResolveChain(*r, effective)) {
      docs.push_back(a.MakeDoc(stats));
    } else {
      docs.push_back(Assembler::Tombstone(r->id, stats));
    }
  }
  return docs;
}

}  // namespace freshet
