#include "ingest/doc_assembler.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "ingest/build_schema.h"
#include "ingest/json_text.h"
#include "index/tokenizer.h"

namespace freshet {
namespace {

// By byte: 0 for an ASCII separator (an ASCII byte other than
// [0-9A-Za-z]), the byte itself for [0-9a-z], its small letter for [A-Z],
// and kNonAscii (0x80) for every byte >= 0x80. One load per byte of text
// both cuts words and lowers them.
constexpr unsigned char kNonAscii = 0x80;
constexpr std::array<unsigned char, 256> kFold = [] {
  std::array<unsigned char, 256> t{};
  for (int u = 0; u < 0x100; ++u) {
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z')) {
      t[u] = static_cast<unsigned char>(u);
    } else if (u >= 'A' && u <= 'Z') {
      t[u] = static_cast<unsigned char>(u - 'A' + 'a');
    } else if (u >= 0x80) {
      t[u] = kNonAscii;
    }
  }
  return t;
}();

// Adds MakeTerm(field, token) for every token of Tokenize(text), in order,
// and returns true; or adds nothing and returns false when Tokenize fails.
//
// Tokenize runs Unicode normalization (utf8proc) over the whole text as soon
// as it holds one non-ASCII byte, and that was a fifth of a full build's
// CPU: most ad texts are ASCII but for a word or two ("café", "東京"). So
// the text is cut at ASCII separators (ASCII bytes other than [0-9A-Za-z])
// into words; a word of ASCII bytes only is one token, lowercased (what
// Tokenize makes of it: NFKC + case folding only lowercase A-Z on ASCII,
// and [0-9A-Za-z] are its only ASCII letters and numbers), and a word
// holding non-ASCII bytes goes through Tokenize alone. This gives exactly
// the tokens of Tokenize(text), because an ASCII separator c splits both
// steps of Tokenize:
// - NFKC + case folding maps c to itself, c has combining class 0 (no mark
//   is reordered across it), and c composes with no preceding character;
//   c composes with a following mark only into U+2260, U+226E, U+226F
//   (from '=', '<', '>' + U+0338), all symbols, and a lone mark is no
//   letter or number either: no token changes. (Checked against every code
//   point's canonical decomposition in utf8proc's tables.)
// - c is neither letter nor number, so no token spans it.
// And the text is valid UTF-8 iff every word is (cuts fall on ASCII bytes).
// DocAssemblerTest.TextTermsAreThoseOfTokenizingTheWholeText checks all of
// this against Tokenize itself.
bool AddTextTerms(std::string_view field, std::string_view text, TermList* terms) {
  const size_t before = terms->size();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0;;) {
    while (i < n && kFold[s[i]] == 0) ++i;
    if (i == n) return true;
    // The word is written as a term while it is cut: field, NUL, then each
    // byte folded. Room for the rest of the text bounds it.
    const size_t word = i;
    char* p = terms->Room(field.size() + 1 + (n - i));
    std::memcpy(p, field.data(), field.size());
    p += field.size();
    *p++ = '\0';
    unsigned char seen = 0;  // every folded byte OR-ed: kNonAscii set if the word is not ASCII
    for (unsigned char f; i < n && (f = kFold[s[i]]) != 0; ++i) {
      *p++ = static_cast<char>(f);
      seen |= f;
    }
    if ((seen & kNonAscii) == 0) {
      terms->EndTerm(p);
      continue;
    }
    // Not ASCII: what was written is dropped (no EndTerm), Tokenize decides.
    Result<std::vector<std::string>> tokens = Tokenize(text.substr(word, i - word));
    if (!tokens.ok()) {
      terms->Truncate(before);
      return false;
    }
    for (const std::string& token : *tokens) terms->Add(field, token);
  }
}

class Assembler {
 public:
  explicit Assembler(const SchemaOptions& options) : s_(CompileBuildSchema(options)) {
    // Each catalog field's `,"name":` in a stored document, escaped once
    // here rather than for every document.
    member_prefix_.reserve(s_.fields.size());
    for (const std::string& f : s_.fields) {
      std::string prefix = ",";
      AppendJsonString(&prefix, f);
      prefix.push_back(':');
      member_prefix_.push_back(std::move(prefix));
    }
  }

  // Fills chain_ with the leaf and its ancestors (nearest first) as `lookup`
  // resolves them; returns whether the leaf is servable. Stops at the first
  // missing, deleted or inactive link.
  //
  // The last ancestor found at each level is remembered (leaves in id order
  // mostly share their parents: an ad group's ads, a campaign's groups), so
  // a lookup, which misses the cache in a table of millions, is made about
  // once per parent, not once per leaf. REQUIRES: what `lookup` answers
  // does not change during this Assembler's life (one Emit* call).
  template <typename Lookup>
  bool ResolveChain(const EntityRecord& leaf, const Lookup& lookup) {
    chain_.clear();
    chain_.push_back(&leaf);
    if (leaf.deleted || !leaf.active) return false;
    const EntityRecord* child = &leaf;
    for (int level = static_cast<int>(leaf.level) - 1; level >= 0; --level) {
      if (child->parent_id.empty()) return false;
      const EntityRecord* parent = Ancestor(static_cast<uint16_t>(level), child->parent_id, lookup);
      if (parent == nullptr || parent->deleted || !parent->active) return false;
      chain_.push_back(parent);
      child = parent;
    }
    return true;
  }

  // Fills `doc` (cleared) with the document for the chain ResolveChain just
  // filled (and found servable).
  void MakeDoc(IndexDoc* doc, DocBuildStats* stats) {
    const EntityRecord& leaf = *chain_.front();
    doc->id.assign(leaf.id);
    bool plain = false;
    for (uint32_t f : s_.text) {
      const std::string_view v = Resolve(f, &plain);
      if (v.empty()) continue;
      if (!AddTextTerms(s_.fields[f], StringValue(v, plain), &doc->terms)) {
        // Unreachable for parsed records (their text is checked UTF-8);
        // counted rather than failing the whole build.
        ++stats->token_errors;
      }
    }
    for (uint32_t f : s_.keyword) {
      const std::string_view v = Resolve(f, &plain);
      if (v.empty()) continue;
      if (v.front() == '"') {  // one string (the usual keyword): no need to split
        doc->terms.Add(s_.fields[f], StringValue(v, plain));
        continue;
      }
      parts_.clear();
      SplitCanonicalScalars(v, &parts_);
      for (std::string_view p : parts_) {
        doc->terms.Add(s_.fields[f], p.front() == '"' ? StringValue(p, plain) : p);
      }
    }
    // {"id":<id>,"<field>":<value>,...}: the pieces are gathered first and
    // copied into a string sized once (two appends per field cost a
    // capacity check each, out of line).
    std::string& stored = doc->stored;
    pieces_.resize(2 * s_.stored.size());  // room for every field: written by index, not pushed
    size_t count = 0;
    size_t size = 2;  // the braces
    for (uint32_t f : s_.stored) {
      const std::string_view v = Resolve(f, &plain);
      if (v.empty()) continue;
      pieces_[count++] = member_prefix_[f];
      pieces_[count++] = v;
      size += member_prefix_[f].size() + v.size();
    }
    const std::span<const std::string_view> pieces(pieces_.data(), count);
    static constexpr std::string_view kIdMember = "\"id\":";
    if (leaf.plain) {  // its id needs no escape
      stored.resize(size + kIdMember.size() + leaf.id.size() + 2);
      char* p = stored.data();
      *p++ = '{';
      p = Put(p, kIdMember);
      *p++ = '"';
      p = Put(p, leaf.id);
      *p++ = '"';
      for (std::string_view piece : pieces) p = Put(p, piece);
      *p = '}';
    } else {
      stored.reserve(size + kIdMember.size() + leaf.id.size() + 16);
      stored.push_back('{');
      stored.append(kIdMember);
      AppendJsonString(&stored, leaf.id);
      for (std::string_view piece : pieces) stored.append(piece);
      stored.push_back('}');
    }
    stats->terms += doc->terms.size();
    ++stats->docs;
  }

  // The catalog fields MakeDoc would store after "id", in order.
  void StoredFields(std::vector<uint32_t>* out) const {
    out->clear();
    for (uint32_t f : s_.stored) {
      bool plain;
      if (!Resolve(f, &plain).empty()) out->push_back(f);
    }
  }

  static void Tombstone(std::string_view id, IndexDoc* doc, DocBuildStats* stats) {
    doc->id.assign(id);
    doc->tombstone = true;
    ++stats->tombstones;
  }

 private:
  // lookup(level, id), or the answer remembered for the same (level, id).
  template <typename Lookup>
  const EntityRecord* Ancestor(uint16_t level, std::string_view id, const Lookup& lookup) {
    if (level >= last_ancestor_.size()) last_ancestor_.resize(level + 1);
    Remembered& last = last_ancestor_[level];
    if (!last.valid || last.id != id) {
      last.record = lookup(level, id);
      last.id.assign(id);
      last.valid = true;
    }
    return last.record;
  }

  // Catalog field f of the joined document: the leaf's own value, else the
  // nearest ancestor that inherits it down; "" when none has it. *plain:
  // whether the record it comes from is (EntityRecord::plain).
  std::string_view Resolve(uint32_t f, bool* plain) const {
    const std::string_view own = chain_.front()->field(f);
    *plain = chain_.front()->plain;
    if (!own.empty()) return own;
    for (size_t k = 1; k < chain_.size(); ++k) {
      const EntityRecord* r = chain_[k];
      if (r->level < s_.inherit.size() && s_.inherit[r->level][f]) {
        const std::string_view v = r->field(f);
        *plain = r->plain;
        if (!v.empty()) return v;
      }
    }
    return {};
  }

  // A canonical JSON string's value: between its quotes when its record
  // has no escape, else unescaped (into scratch_).
  std::string_view StringValue(std::string_view quoted, bool plain) {
    if (plain && quoted.size() >= 2 && quoted.front() == '"') return quoted.substr(1, quoted.size() - 2);
    return JsonStringValue(quoted, &scratch_);
  }

  struct Remembered {
    bool valid = false;
    std::string id;  // a copy: the id a lookup's record may not hold (nullptr)
    const EntityRecord* record = nullptr;
  };

  BuildSchema s_;
  std::vector<std::string> member_prefix_;  // by catalog field
  std::vector<const EntityRecord*> chain_;
  std::vector<Remembered> last_ancestor_;  // by level
  static char* Put(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }

  std::string scratch_;
  std::vector<std::string_view> parts_;
  std::vector<std::string_view> pieces_;  // MakeDoc's stored document, piece by piece
};

void Add(DocBuildStats* to, const DocBuildStats& from) {
  to->entities += from.entities;
  to->leaves += from.leaves;
  to->stale_updates += from.stale_updates;
  to->leaves_updated += from.leaves_updated;
  to->fanout += from.fanout;
  to->docs += from.docs;
  to->tombstones += from.tombstones;
  to->unservable += from.unservable;
  to->terms += from.terms;
  to->token_errors += from.token_errors;
}


// A block of documents kept as IndexDocs (for the collecting functions).
struct DocList {
  std::vector<IndexDoc> docs;
  void Add(const IndexDoc& doc) { docs.push_back(doc); }
  void Seal() {}
  void Clear() { docs.clear(); }
};

void MoveInto(std::vector<IndexDoc>* out, DocList* block) {
  for (IndexDoc& d : block->docs) out->push_back(std::move(d));
}

// A DocBatch from `spares` into *block, if there is one; GiveBackSpare
// returns it (DocParallelism::spare_batches). Other blocks: nothing.
template <typename Block>
void TakeSpare(std::vector<DocBatch>* spares, Block* block) {
  if constexpr (std::is_same_v<Block, DocBatch>) {
    if (spares != nullptr && !spares->empty()) {
      *block = std::move(spares->back());
      spares->pop_back();
    }
  } else {
    (void)spares, (void)block;
  }
}
template <typename Block>
void GiveBackSpare(std::vector<DocBatch>* spares, Block* block) {
  if constexpr (std::is_same_v<Block, DocBatch>) {
    if (spares != nullptr) spares->push_back(std::move(*block));
  } else {
    (void)spares, (void)block;
  }
}

// Calls make(assembler, i, doc, stats) for every i in [0, n) -- it fills the
// (cleared) doc and returns whether it is one to emit -- adds the emitted
// docs to Blocks of up to par.block_leaves leaves, and hands the blocks to `sink`
// on the calling thread in ascending order of i.
//
// With a pool, threads > 1 and more than one block of work, up to
// `threads` pool tasks make blocks (each with its own Assembler, doc buffers
// and stats) while the calling thread feeds the sink; at most
// kSlotsPerThread blocks per thread are made ahead of the sink, so memory
// stays bounded however large n is. The caller makes a block itself when
// nobody has claimed the one the sink needs next, so it never waits for a
// task still queued behind it: safe when the caller is itself a pool task
// (the build is) and when the pool refuses helpers.
template <typename Block, typename Make, typename Sink>
void EmitInOrder(const SchemaOptions& schema, size_t n, DocParallelism par, const Make& make, const Sink& sink,
                 DocBuildStats* stats) {
  const size_t block_leaves = std::max<size_t>(1, par.block_leaves);
  const size_t blocks = (n + block_leaves - 1) / block_leaves;
  auto fill = [n, block_leaves, &make](size_t b, Assembler& a, IndexDoc& doc, Block& block, DocBuildStats* st) {
    block.Clear();
    const size_t end = std::min(n, (b + 1) * block_leaves);
    for (size_t i = b * block_leaves; i < end; ++i) {
      doc.Clear();
      if (make(a, i, &doc, st)) block.Add(doc);
    }
    block.Seal();  // on the thread that made the block, not the sink's
  };
  if (par.pool == nullptr || par.threads <= 1 || blocks <= 1) {
    Assembler a(schema);
    IndexDoc doc;
    Block block;
    TakeSpare(par.spare_batches, &block);  // and back when done
    for (size_t b = 0; b < blocks; ++b) {
      fill(b, a, doc, block, stats);
      sink(block);
    }
    GiveBackSpare(par.spare_batches, &block);
    return;
  }
  const size_t threads = std::min(par.threads, blocks);
  constexpr size_t kSlotsPerThread = 2;
  struct Slot {
    Block block;
    bool ready = false;  // guarded by mu
  };
  // Shared with the helper tasks: one that starts after the last block was
  // claimed (even after this call returned) only reads next_block and leaves.
  struct Shared {
    std::mutex mu;
    std::condition_variable made;      // a slot became ready
    std::condition_variable consumed;  // the sink finished a block
    size_t next_block = 0;             // guarded by mu: the next block to claim
    size_t blocks_done = 0;            // guarded by mu: blocks the sink has finished
    size_t helpers_started = 0;        // guarded by mu
    std::vector<Slot> slots;
    std::vector<DocBuildStats> stats;  // one per helper, and the caller's last
  };
  auto sh = std::make_shared<Shared>();
  sh->slots.resize(threads * kSlotsPerThread);
  for (Slot& slot : sh->slots) TakeSpare(par.spare_batches, &slot.block);  // and back when done
  sh->stats.resize(threads + 1);
  Shared& m = *sh;

  auto work = [sh, blocks, &schema, &fill] {
    Shared& m = *sh;
    // Built once this task has claimed a block: only then is the call (and
    // with it `schema` and `fill`) sure to be waiting for us.
    std::optional<Assembler> a;
    IndexDoc doc;
    size_t w = 0;
    for (;;) {
      size_t b;
      {
        std::unique_lock lock(m.mu);
        if (m.next_block >= blocks) return;  // nothing left (the call may be over)
        b = m.next_block++;
        if (!a) w = m.helpers_started++;
        // Slot b % size was last used by block b - size: wait until the sink is done with it.
        m.consumed.wait(lock, [&] { return b < m.blocks_done + m.slots.size(); });
      }
      if (!a) a.emplace(schema);
      Slot& slot = m.slots[b % m.slots.size()];
      fill(b, *a, doc, slot.block, &m.stats[w]);
      {
        std::lock_guard lock(m.mu);
        slot.ready = true;
      }
      m.made.notify_one();  // only the sink waits on it
    }
  };
  for (size_t h = 0; h < threads; ++h) {
    if (!par.pool->TrySubmit(work)) break;  // refused: the caller makes more blocks itself
  }
  Assembler caller_assembler(schema);
  IndexDoc caller_doc;
  for (size_t b = 0; b < blocks; ++b) {
    Slot& slot = m.slots[b % m.slots.size()];
    std::unique_lock lock(m.mu);
    if (!slot.ready && m.next_block == b) {
      // Nobody has claimed the block the sink needs: make it here.
      ++m.next_block;
      lock.unlock();
      fill(b, caller_assembler, caller_doc, slot.block, &m.stats[threads]);
      lock.lock();
      slot.ready = true;
    }
    m.made.wait(lock, [&] { return slot.ready; });
    lock.unlock();
    sink(slot.block);
    lock.lock();
    slot.ready = false;
    m.blocks_done = b + 1;
    lock.unlock();
    m.consumed.notify_all();
  }
  // Every block was consumed, so every helper that claimed one is done
  // with it; a helper still running only finds nothing left to claim.
  std::lock_guard lock(m.mu);
  for (const DocBuildStats& ws : m.stats) Add(stats, ws);
  for (Slot& slot : m.slots) GiveBackSpare(par.spare_batches, &slot.block);
}

// The documents of a run of leaf records [begin, end) in id order, their
// ancestors looked up in `ancestors`.
template <typename Block, typename Sink>
void EmitFull(const SchemaOptions& schema, const EntityTable& ancestors, const EntityRecord* begin,
              const EntityRecord* end, DocParallelism par, const Sink& sink, DocBuildStats* stats) {
  auto lookup = [&ancestors](uint16_t level, std::string_view id) { return ancestors.Find(level, id); };
  const size_t n = static_cast<size_t>(end - begin);
  auto make = [begin, n, &lookup](Assembler& a, size_t i, IndexDoc* doc, DocBuildStats* st) {
    // Each record's text and spans were parsed a while ago on another
    // thread: ask for a later one's while this one is made (its first read
    // was a sixth of MakeDoc's time): every line of its entry, up to 512
    // bytes (the first three lines only left later fields' first reads
    // waiting; 8 records ahead is no better), and its spans.
    constexpr size_t kAhead = 4;
    if (i + kAhead < n) {
      const EntityRecord& later = begin[i + kAhead];
      const std::string_view text = later.entry();
      for (size_t at = 0; at < text.size() && at < 512; at += 64) __builtin_prefetch(text.data() + at);
      if (!later.packed()) __builtin_prefetch(later.fields.data());
    }
    ++st->leaves;
    if (!a.ResolveChain(begin[i], lookup)) {
      ++st->unservable;
      return false;
    }
    a.MakeDoc(doc, st);
    return true;
  };
  EmitInOrder<Block>(schema, static_cast<size_t>(end - begin), par, make, sink, stats);
}

template <typename Block, typename Sink>
void EmitFull(const SchemaOptions& schema, const EntityTable& snapshot, DocParallelism par, const Sink& sink,
              DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  stats->entities += snapshot.size();
  const auto [begin, end] = snapshot.Level(CompileBuildSchema(schema).leaf);
  EmitFull<Block>(schema, snapshot, begin, end, par, sink, stats);
}

// Between the base and the window, the higher version shows; on a tie,
// the window's record (the update). Versions alone: a base record read
// from a full's entities carries no tiebreak (base_entities.h), and the
// from-scratch delta applies this very rule, so both give the same bytes.
bool BaseIsNewer(const EntityRecord& base, const EntityRecord& window) { return base.version > window.version; }

// An entity whose window version changed. `before`: the window version
// that was there before the change (nullptr: none, or unknown because the
// caller builds from scratch).
struct Root {
  uint16_t level;
  std::string_view id;
  const EntityRecord* before = nullptr;
};

// The leaves affected by `roots`, each emitted from the effective state of
// `base` and `window`: a document when servable, else a tombstone. A root
// whose effective version is the base's changes nothing (a stale window
// record), unless what showed before was a window version: then the
// base's shows again. `Base` and `Window` offer Find(level, id) and
// ChildrenOf(level, parent, out) as EntityTable does.
template <typename Block, typename Base, typename Window, typename Sink>
void EmitAffected(const SchemaOptions& schema, const Base& base, const Window& window, const std::vector<Root>& roots,
                  DocParallelism par, const Sink& sink, DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  const uint16_t leaf = CompileBuildSchema(schema).leaf;
  // The base's version is read first (FindVersion: cheap from a full's
  // entities); its whole record only when it is the one that shows.
  auto effective = [&base, &window](uint16_t level, std::string_view id) -> const EntityRecord* {
    const EntityRecord* w = window.Find(level, id);
    if (w == nullptr) return base.Find(level, id);
    const EntityRecord* b = base.FindVersion(level, id);
    return b != nullptr && BaseIsNewer(*b, *w) ? base.Find(level, id) : w;
  };

  // `effective` as FindVersion answers: for the children of a dead parent,
  // whose version, flags and parent are all the fan-out reads.
  auto effective_version = [&base, &window](uint16_t level, std::string_view id) -> const EntityRecord* {
    const EntityRecord* w = window.Find(level, id);
    const EntityRecord* b = base.FindVersion(level, id);
    if (w == nullptr) return b;
    return b != nullptr && BaseIsNewer(*b, *w) ? b : w;
  };
  // Whether (level, id) and its ancestors are all present, live and active
  // as ResolveChain judges them: a parent that is not has no servable
  // descendant.
  auto servable = [&effective](uint16_t level, std::string_view id) {
    for (int l = level;; --l) {
      const EntityRecord* r = effective(static_cast<uint16_t>(l), id);
      if (r == nullptr || r->deleted || !r->active) return false;
      if (l == 0) return true;
      if (r->parent_id.empty()) return false;
      id = r->parent_id;
    }
  };

  // Affected leaves: updated ones, then the descendants of updated
  // ancestors. Views point into the tables and `roots`.
  // An affected leaf's id; its effective record when the fan-out already
  // looked it up (else nullptr: looked up when its document is made); and
  // whether an ancestor already rules it out (its document is a tombstone,
  // whatever its own record says).
  struct Affected {
    std::string_view id;
    const EntityRecord* known = nullptr;
    bool dead = false;
  };
  struct Pending {
    uint16_t level;
    std::string_view id;
    std::optional<bool> dead;  // nullopt: not known yet (a root)
  };
  std::vector<std::string_view> updated;
  std::vector<Affected> affected;
  std::vector<Pending> pending;
  for (const auto& [level, id, before] : roots) {
    if (level > leaf) continue;  // not this schema's record; nothing to join it to
    const EntityRecord* w = window.Find(level, id);
    const EntityRecord* b = base.FindVersion(level, id);
    const bool base_shows = b != nullptr && (w == nullptr || BaseIsNewer(*b, *w));
    const bool window_showed = before != nullptr && (b == nullptr || !BaseIsNewer(*b, *before));
    if (base_shows && !window_showed) {
      ++stats->stale_updates;
      continue;
    }
    // Also a root: gone from the window and never in the base (its object
    // left the source) when a window version showed before, so a leaf
    // becomes a tombstone over an older segment's copy and an ancestor's
    // children are judged again.
    if (w == nullptr && b == nullptr && before == nullptr) continue;
    if (level == leaf) {
      updated.push_back(id);
    } else {
      pending.push_back(Pending{level, id, std::nullopt});
    }
  }
  std::set<std::pair<uint16_t, std::string_view>> expanded;
  std::vector<const EntityRecord*> kids;
  while (!pending.empty()) {
    const Pending p = pending.back();
    pending.pop_back();
    if (!expanded.emplace(p.level, p.id).second) continue;
    // A dead parent's children are read for their versions only: they all
    // become tombstones, so their documents in the full are not needed
    // (three quarters of a fan-out's leaves on the benchmark's data).
    const bool dead = p.dead.has_value() ? *p.dead : !servable(p.level, p.id);
    const auto child_level = static_cast<uint16_t>(p.level + 1);
    kids.clear();
    if (dead) {
      base.ChildVersionsOf(child_level, p.id, &kids);
    } else {
      base.ChildrenOf(child_level, p.id, &kids);
    }
    window.ChildrenOf(child_level, p.id, &kids);
    for (const EntityRecord* kid : kids) {
      // A child may have moved away in the window (or in the base, when the
      // window's record is stale): only current children count.
      const EntityRecord* current = dead ? effective_version(child_level, kid->id) : effective(child_level, kid->id);
      if (current != kid) continue;  // the other table's copy decides (and is listed too, if it is a child)
      // Its parent is this one: it is dead when this one is, or when it is
      // itself deleted or inactive.
      const bool kid_dead = dead || kid->deleted || !kid->active;
      if (child_level == leaf) {
        affected.push_back(Affected{kid->id, dead ? nullptr : kid, kid_dead});
      } else {
        pending.push_back(Pending{child_level, kid->id, kid_dead});
      }
    }
  }
  std::sort(updated.begin(), updated.end());
  updated.erase(std::unique(updated.begin(), updated.end()), updated.end());
  stats->leaves_updated += updated.size();
  for (std::string_view id : updated) affected.push_back(Affected{id, nullptr, false});
  // By id; of one leaf's entries the first (dead, then with its record)
  // stays. All of them give the same document: an entry's deadness and
  // record are the effective state's.
  std::sort(affected.begin(), affected.end(), [](const Affected& a, const Affected& b) {
    if (a.id != b.id) return a.id < b.id;
    if (a.dead != b.dead) return a.dead;
    return a.known != nullptr && b.known == nullptr;
  });
  affected.erase(std::unique(affected.begin(), affected.end(),
                             [](const Affected& a, const Affected& b) { return a.id == b.id; }),
                 affected.end());
  stats->leaves += affected.size();
  stats->fanout += affected.size() - updated.size();

  auto make = [&affected, &effective, leaf](Assembler& a, size_t i, IndexDoc* doc, DocBuildStats* st) {
    const Affected& e = affected[i];
    if (e.dead) {
      Assembler::Tombstone(e.id, doc, st);
      return true;
    }
    const EntityRecord* r = e.known != nullptr ? e.known : effective(leaf, e.id);
    if (r == nullptr) {
      // Gone from the window and never in the base: a tombstone keeps an
      // older segment's copy from showing through.
      Assembler::Tombstone(e.id, doc, st);
    } else if (a.ResolveChain(*r, effective)) {
      a.MakeDoc(doc, st);
    } else {
      Assembler::Tombstone(r->id, doc, st);
    }
    return true;
  };
  EmitInOrder<Block>(schema, affected.size(), par, make, sink, stats);
}

template <typename Block, typename Base, typename Sink>
void EmitDelta(const SchemaOptions& schema, const Base& base, const EntityTable& window, DocParallelism par,
               const Sink& sink, DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  stats->entities += window.size();
  std::vector<Root> roots;
  roots.reserve(window.size());
  for (const EntityRecord& w : window.records()) roots.push_back(Root{w.level, w.id});
  EmitAffected<Block>(schema, base, window, roots, par, sink, stats);
}

}  // namespace

void StreamFullDocs(const SchemaOptions& schema, const EntityTable& snapshot, DocParallelism par,
                    const BatchSink& sink, DocBuildStats* stats) {
  EmitFull<DocBatch>(schema, snapshot, par, sink, stats);
}

void StreamFullDocsOf(const SchemaOptions& schema, const EntityTable& ancestors,
                      std::span<const EntityRecord> leaves, DocParallelism par, const BatchSink& sink,
                      DocBuildStats* stats) {
  DocBuildStats local;
  EmitFull<DocBatch>(schema, ancestors, leaves.data(), leaves.data() + leaves.size(), par, sink,
                     stats != nullptr ? stats : &local);
}

void ForEachFullDocShapeOf(const SchemaOptions& schema, const EntityTable& ancestors,
                           std::span<const EntityRecord> leaves,
                           const std::function<void(size_t leaf, const std::vector<uint32_t>& stored)>& fn) {
  auto lookup = [&ancestors](uint16_t level, std::string_view id) { return ancestors.Find(level, id); };
  Assembler a(schema);
  std::vector<uint32_t> stored;
  for (size_t i = 0; i < leaves.size(); ++i) {
    // The run was read once already (its documents) and is larger than
    // the caches: ask for a later leaf's fields (a packed one's presence
    // bits and spans, in its entry's first line) while this one is done.
    constexpr size_t kAhead = 4;
    if (i + kAhead < leaves.size()) {
      const EntityRecord& later = leaves[i + kAhead];
      __builtin_prefetch(later.packed() ? later.entry().data() : static_cast<const void*>(later.fields.data()));
    }
    if (!a.ResolveChain(leaves[i], lookup)) continue;
    a.StoredFields(&stored);
    fn(i, stored);
  }
}

void ForEachFullDocShape(const SchemaOptions& schema, const EntityTable& snapshot,
                         const std::function<void(size_t leaf, const std::vector<uint32_t>& stored)>& fn) {
  const auto [begin, end] = snapshot.Level(CompileBuildSchema(schema).leaf);
  ForEachFullDocShapeOf(schema, snapshot, std::span<const EntityRecord>(begin, end), fn);
}

std::vector<IndexDoc> BuildFullDocs(const SchemaOptions& schema, const EntityTable& snapshot,
                                    DocBuildStats* stats) {
  std::vector<IndexDoc> docs;
  EmitFull<DocList>(schema, snapshot, DocParallelism{}, [&docs](DocList& block) { MoveInto(&docs, &block); },
                    stats);
  return docs;
}

void StreamDeltaDocs(const SchemaOptions& schema, const EntityTable& base, const EntityTable& window,
                     DocParallelism par, const BatchSink& sink, DocBuildStats* stats) {
  EmitDelta<DocBatch>(schema, base, window, par, sink, stats);
}

namespace {

std::vector<Root> RootsOf(const std::vector<TouchedEntity>& touched) {
  std::vector<Root> roots;
  roots.reserve(touched.size());
  for (const TouchedEntity& t : touched) roots.push_back(Root{t.key.level, t.key.id, t.before ? &*t.before : nullptr});
  return roots;
}

}  // namespace

void StreamTouchedDocs(const SchemaOptions& schema, const EntityTable& base, const WindowState& window,
                       const std::vector<TouchedEntity>& touched, DocParallelism par, const BatchSink& sink,
                       DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  stats->entities += touched.size();
  EmitAffected<DocBatch>(schema, base, window, RootsOf(touched), par, sink, stats);
}

void StreamTouchedDocs(const SchemaOptions& schema, const BaseEntities& base, const WindowState& window,
                       const std::vector<TouchedEntity>& touched, DocParallelism par, const BatchSink& sink,
                       DocBuildStats* stats) {
  DocBuildStats local;
  if (stats == nullptr) stats = &local;
  stats->entities += touched.size();
  EmitAffected<DocBatch>(schema, base, window, RootsOf(touched), par, sink, stats);
}

void StreamDeltaDocs(const SchemaOptions& schema, const BaseEntities& base, const EntityTable& window,
                     DocParallelism par, const BatchSink& sink, DocBuildStats* stats) {
  EmitDelta<DocBatch>(schema, base, window, par, sink, stats);
}

std::vector<IndexDoc> BuildTouchedDocs(const SchemaOptions& schema, const EntityTable& base, const WindowState& window,
                                       const std::vector<TouchedEntity>& touched, DocBuildStats* stats) {
  std::vector<IndexDoc> out;
  EmitAffected<DocList>(schema, base, window, RootsOf(touched), DocParallelism{},
                        [&out](DocList& block) { MoveInto(&out, &block); }, stats);
  return out;
}

std::vector<IndexDoc> BuildDeltaDocs(const SchemaOptions& schema, const EntityTable& base,
                                     const EntityTable& window, DocBuildStats* stats) {
  std::vector<IndexDoc> docs;
  EmitDelta<DocList>(schema, base, window, DocParallelism{}, [&docs](DocList& block) { MoveInto(&docs, &block); },
                     stats);
  return docs;
}

}  // namespace freshet
