#include "actors/fetch_parse.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <utility>

#include "actors/bounded_parallel.h"
#include "base/release_memory.h"
#include "ingest/object_decoder.h"

namespace freshet {
namespace {

// One GET: a whole object, or one range of a big one.
struct Unit {
  size_t object = 0;
  uint64_t offset = 0, length = 0;
  size_t index = 0, count = 1;  // the range's place in its object (count 1: whole)
  bool ranged() const { return count > 1; }
};

// What one parse task reads of one object, in order.
struct Segment {
  size_t object = 0;
  std::string_view text;  // into the piece's bodies or `own`
  std::string own;        // a line joined across two ranges (text views it)
  bool whole = false;     // the object's whole body, still to decode (DecodeAndParseObject)
  bool first = false;     // starts the object: counts it (its BOM was stripped at the cut)
  bool last = false;      // ends the object: it is complete once this is consumed
};

// Where each segment's records, quarantine entries and lines start in the
// piece's part.
struct Mark {
  size_t records = 0, bad = 0;
  uint64_t lines = 0;  // the segment's physical lines
};

struct Piece {
  std::vector<Segment> segments;
  // What the segments view (a deque: its strings never move, so views of
  // short ones stay valid); freed once parsed.
  std::deque<std::string> bodies;
  uint64_t unit_bytes = 0;  // of the units whose bodies these are (max_pending_bytes)
  size_t bytes = 0;         // of text, to bound a group of whole objects
  bool open = false;        // a group still taking objects (never seen by Schedule)
  std::vector<Mark> marks;          // by segment, once parsed
  DecodedInput part;
  bool parsed = false;
};

using Complete = std::function<void(Status)>;

struct Run : std::enable_shared_from_this<Run> {
  FetchParse op;  // its objects moved out (below)
  StoreCallback<DecodedInput> done;
  std::vector<ObjectInfo> objects;
  std::vector<Unit> units;
  size_t max_ahead = 1;
  size_t group_bytes = 0;  // whole objects are parsed together up to this

  std::mutex mu;  // guards everything below
  std::vector<std::string> bodies;  // by unit, from its fetch to its cut
  std::vector<char> arrived;        // by unit: fetched (or given up on)
  std::vector<char> moved_object;   // by object: changed or vanished (named in op.moved once)
  std::vector<char> whole_object;   // by object: ranged, but LZ4 after all: unit 0 holds it whole
  size_t cut_unit = 0;              // the next unit to cut into pieces
  std::string carry;                // the cut object's line begun in the last range cut
  std::deque<Piece> pieces;         // in order; consumed ones are popped
  size_t pieces_popped = 0;         // index of pieces.front()
  size_t parse_next = 0;            // index of the next piece to parse
  size_t ahead = 0;                 // pieces started and not yet consumed
  size_t tasks = 0;                 // parse tasks submitted and not yet finished
  bool consuming = false;
  std::vector<uint64_t> lines_before;  // by object: physical lines of its segments consumed so far
  uint64_t pending_bytes = 0;          // of units admitted and not yet parsed
  std::deque<std::pair<size_t, Complete>> waiting;  // fetches held back by max_pending_bytes
  bool fetch_done = false, finished = false;
  DecodedInput counts;  // of the parts consumed
  Status error;
  // Parsers of finished tasks, for the next ones: a parser's scratch is
  // allocated once, not once per piece.
  std::vector<std::unique_ptr<RecordParser>> parsers;

  void Start();
  bool Admit(size_t u);
  void ReleaseWaiting();
  void Fetch(size_t u, Complete complete);
  void Arrived(size_t u, bool skipped, Result<GetResult> r, Complete complete);
  void CutArrived();
  Piece& Group(size_t bytes);
  void Schedule();
  void ParseAndConsume(size_t k);
  void ConsumeInOrder(std::unique_lock<std::mutex>& lock);
  void MaybeFinish();
  std::unique_ptr<RecordParser> TakeParser();
  void ReturnParser(std::unique_ptr<RecordParser> parser);
  Piece& piece(size_t k) { return pieces[k - pieces_popped]; }
};

void Run::Start() {
  const size_t n = objects.size();
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const ObjectInfo& o = objects[i];
    total += o.size;
    // A big object is read in ranges of piece_bytes, unless it is named as
    // LZ4 (whose lines are only known once it is decompressed whole). The
    // first range must hold an LZ4 magic, should the object be one anyway.
    const uint64_t range = std::max<uint64_t>(op.piece_bytes, 16);
    if (op.piece_bytes > 0 && o.size > range && !o.key.ends_with(".lz4") && !IsIgnoredObject(o.key, o.size)) {
      const size_t count = static_cast<size_t>((o.size + range - 1) / range);
      for (size_t k = 0; k < count; ++k) {
        units.push_back({i, k * range, std::min<uint64_t>(range, o.size - k * range), k, count});
      }
    } else {
      units.push_back({i, 0, o.size, 0, 1});
    }
  }
  // Without piece_bytes, a few groups per thread: objects differ in size,
  // and each group is parsed by one task.
  group_bytes = op.piece_bytes > 0 ? op.piece_bytes
                                   : std::max<uint64_t>(1, total / std::max<size_t>(1, op.pool->thread_count() * 8));
  bodies.resize(units.size());
  arrived.assign(units.size(), 0);
  moved_object.assign(n, 0);
  whole_object.assign(n, 0);
  lines_before.assign(n, 0);
  auto self = shared_from_this();
  BoundedParallel::Run(
      units.size(), op.parallelism,
      [self](size_t u, Complete complete) {
        {
          std::lock_guard<std::mutex> lock(self->mu);
          if (!self->error.ok()) {
            // A fetch, the pool or the consumer failed: nothing more is read.
            complete(Status::Cancelled("fetch stopped"));
            return;
          }
          // Behind any unit already waiting: units are admitted in order.
          if (!self->waiting.empty() || !self->Admit(u)) {
            self->waiting.emplace_back(u, std::move(complete));
            return;
          }
        }
        self->Fetch(u, std::move(complete));
      },
      [self](Status st) {
        {
          std::lock_guard<std::mutex> lock(self->mu);
          self->fetch_done = true;
          if (!st.ok() && self->error.ok()) self->error = std::move(st);
        }
        self->MaybeFinish();
      });
}

// Whether unit u may be fetched now; if so, counted as pending. Units are
// admitted in order, and the first one always fits: the units before a
// waiting one are fetched, so they are cut, parsed and consumed in turn,
// and their bytes leave the books. REQUIRES: mu held.
bool Run::Admit(size_t u) {
  const uint64_t size = units[u].length;
  if (op.max_pending_bytes > 0 && pending_bytes > 0 && pending_bytes + size > op.max_pending_bytes) return false;
  pending_bytes += size;
  return true;
}

// Starts the fetches that fit now (after a piece was parsed), or fails them
// all once the run has an error. REQUIRES: mu not held.
void Run::ReleaseWaiting() {
  std::vector<std::pair<size_t, Complete>> start, fail;
  {
    std::lock_guard<std::mutex> lock(mu);
    while (!waiting.empty()) {
      auto& [u, complete] = waiting.front();
      if (!error.ok()) {
        fail.emplace_back(u, std::move(complete));
      } else if (Admit(u)) {
        start.emplace_back(u, std::move(complete));
      } else {
        break;  // in order: the later ones wait too
      }
      waiting.pop_front();
    }
  }
  for (auto& [u, complete] : fail) complete(Status::Cancelled("fetch stopped"));
  for (auto& [u, complete] : start) Fetch(u, std::move(complete));
}

void Run::Fetch(size_t u, Complete complete) {
  const Unit& unit = units[u];
  bool skip;
  {
    std::lock_guard<std::mutex> lock(mu);
    skip = unit.index > 0 && whole_object[unit.object];  // read whole with unit 0: LZ4 after all
  }
  if (skip) {
    Arrived(u, true, Status::Cancelled("read whole with its first range"), std::move(complete));
    return;
  }
  GetRequest req;
  req.key = objects[unit.object].key;
  if (unit.ranged()) req.range = ByteRange{unit.offset, unit.length};
  op.store->Get(std::move(req), [self = shared_from_this(), u, complete](Result<GetResult> r) mutable {
    const Unit& unit = self->units[u];
    if (r.ok() && unit.ranged() && unit.index == 0 && HasLz4Magic(r->body) &&
        r->info.etag == self->objects[unit.object].etag) {
      // LZ4 under another name: its text is only known decompressed, so it
      // is read (and parsed) whole; its other ranges are not read.
      {
        std::lock_guard<std::mutex> lock(self->mu);
        self->whole_object[unit.object] = 1;
      }
      GetRequest whole;
      whole.key = self->objects[unit.object].key;
      self->op.store->Get(std::move(whole), [self, u, complete](Result<GetResult> w) mutable {
        self->Arrived(u, false, std::move(w), std::move(complete));
      });
      return;
    }
    self->Arrived(u, false, std::move(r), std::move(complete));
  });
}

// Unit u's GET completed with `r`, or was `skipped` (its object was read
// whole with unit 0).
void Run::Arrived(size_t u, bool skipped, Result<GetResult> r, Complete complete) {
  const Unit& unit = units[u];
  const ObjectInfo& want = objects[unit.object];
  const bool gone = !skipped && !r.ok() && r.status().code() == StatusCode::kNotFound;
  Status st;
  std::unique_lock<std::mutex> lock(mu);
  const uint64_t want_bytes = unit.ranged() && !whole_object[unit.object] ? unit.length : want.size;
  if (skipped) {
    // Nothing to keep.
  } else if (gone || (r.ok() && (r->info.etag != want.etag || r->info.size != want.size ||
                                 r->body.size() != want_bytes))) {
    if (!moved_object[unit.object]) {
      moved_object[unit.object] = 1;
      op.moved->push_back(want.key);
    }
  } else if (!r.ok()) {
    st = r.status().WithContext("get " + want.key);
  } else {
    bodies[u] = std::move(r->body);
  }
  arrived[u] = 1;
  if (st.ok()) {
    CutArrived();
  } else if (error.ok()) {
    error = st;
  }
  lock.unlock();
  ReleaseWaiting();  // (units dropped at the cut left the books; after an error, fails them)
  if (st.ok()) Schedule();
  complete(std::move(st));
}

// The open group of whole objects, or a new one when there is none or
// `bytes` more would take it past group_bytes. REQUIRES: mu held.
Piece& Run::Group(size_t bytes) {
  if (pieces.empty() || !pieces.back().open || pieces.back().bytes + bytes > group_bytes) {
    if (!pieces.empty()) pieces.back().open = false;
    pieces.emplace_back();
    pieces.back().open = true;
  }
  pieces.back().bytes += bytes;
  return pieces.back();
}

// Cuts the units that arrived, in order, into pieces: a whole object joins
// the open group; a range of a big object is one piece, from the first line
// it starts (the line it finishes, begun in the ranges before, is joined
// into one) to the last one it ends. REQUIRES: mu held (the cut runs under
// it: one thread at a time, in order).
void Run::CutArrived() {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (; cut_unit < units.size() && arrived[cut_unit]; ++cut_unit) {
    const Unit& unit = units[cut_unit];
    const size_t i = unit.object;
    std::string body = std::move(bodies[cut_unit]);
    if (moved_object[i] || (unit.index > 0 && whole_object[i])) {
      // The input is discarded (moved), or the unit was not read.
      pending_bytes -= unit.length;
      if (unit.index + 1 == unit.count) carry.clear();
      continue;
    }
    if (!unit.ranged() || whole_object[i]) {
      Piece& p = Group(body.size());
      p.unit_bytes += unit.length;
      p.bodies.push_back(std::move(body));
      p.segments.push_back({i, p.bodies.back(), {}, true, true, true});
      continue;
    }
    if (!pieces.empty()) pieces.back().open = false;  // a range is a piece of its own
    // A range: it finishes the line the ranges before began, then holds
    // whole lines, then begins one the ranges after finish (unless last).
    const bool first = unit.index == 0, last = unit.index + 1 == unit.count;
    pieces.emplace_back();
    Piece& p = pieces.back();
    p.unit_bytes = unit.length;
    p.bodies.push_back(std::move(body));
    std::string_view text = p.bodies.back();
    if (first && text.starts_with(kBom)) text.remove_prefix(kBom.size());
    if (!first) {
      const size_t nl = text.find('\n');
      if (nl == std::string_view::npos && !last) {
        carry.append(text);  // a line longer than a range goes on
        pending_bytes -= unit.length;
        pieces.pop_back();
        continue;
      }
      const size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
      Segment joined{i, {}, std::move(carry), false, false, false};
      carry.clear();
      joined.own.append(text.substr(0, end));
      text.remove_prefix(end);
      joined.last = last && text.empty();
      p.segments.push_back(std::move(joined));
    }
    std::string_view whole_lines = text;
    if (!last) {
      const size_t nl = text.rfind('\n');
      const size_t end = nl == std::string_view::npos ? 0 : nl + 1;
      carry.assign(text.substr(end));
      whole_lines = text.substr(0, end);
    }
    // The first range's segment counts the object, even with no whole line.
    if (first || !whole_lines.empty()) p.segments.push_back({i, whole_lines, {}, false, first, last});
    for (Segment& s : p.segments) {
      if (!s.own.empty()) s.text = s.own;  // (after the vector's last move)
    }
  }
  // A group left open would wait for objects not here yet: close it, so
  // that what arrived is parsed now (the fetches after it may be waiting
  // for its bytes to leave the books).
  if (!pieces.empty()) pieces.back().open = false;
}

// Starts parsing the next pieces, up to max_ahead of the consumer.
// REQUIRES: mu not held.
void Run::Schedule() {
  std::vector<size_t> start;
  {
    std::lock_guard<std::mutex> lock(mu);
    while (error.ok() && ahead < max_ahead && parse_next < pieces_popped + pieces.size()) {
      start.push_back(parse_next++);
      ++ahead;
      ++tasks;
    }
  }
  for (size_t k : start) {
    const bool ok = op.pool->TrySubmit([self = shared_from_this(), k] { self->ParseAndConsume(k); });
    if (!ok) {
      {
        std::lock_guard<std::mutex> lock(mu);
        --tasks;
        if (error.ok()) error = Status::Unavailable("compute pool \"" + op.pool->name() + "\" is full");
      }
      ReleaseWaiting();
      MaybeFinish();
    }
  }
}

std::unique_ptr<RecordParser> Run::TakeParser() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!parsers.empty()) {
      std::unique_ptr<RecordParser> p = std::move(parsers.back());
      parsers.pop_back();
      return p;
    }
  }
  return std::make_unique<RecordParser>(*op.schema);
}

void Run::ReturnParser(std::unique_ptr<RecordParser> parser) {
  std::lock_guard<std::mutex> lock(mu);
  parsers.push_back(std::move(parser));
}

void Run::ParseAndConsume(size_t k) {
  Piece* p;
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mu);
    stopped = !error.ok();
    p = &piece(k);  // (a deque: stays put as pieces are added and popped at the other end)
  }
  // Only this task touches the piece until it is marked parsed.
  if (!stopped) {
    std::unique_ptr<RecordParser> parser = TakeParser();
    if (op.pack_records) p->part.arena = std::make_unique<RecordArena>();
    parser->SetArena(p->part.arena.get());
    p->marks.reserve(p->segments.size());
    for (const Segment& s : p->segments) {
      Mark m{p->part.records.size(), p->part.bad.size(), 0};
      const ObjectInfo& info = objects[s.object];
      if (s.whole) {
        DecodeAndParseObject(parser.get(), info, s.text, DecodeOptions{}, &p->part);
      } else {
        ParseObjectPart(parser.get(), info, s.text, s.first, &p->part, &m.lines);
      }
      p->marks.push_back(m);
    }
    ReturnParser(std::move(parser));
  }
  std::deque<std::string> bodies_parsed = std::move(p->bodies);
  for (Segment& s : p->segments) s.text = {};
  {
    std::lock_guard<std::mutex> lock(mu);
    p->parsed = true;
    pending_bytes -= p->unit_bytes;
  }
  bodies_parsed.clear();
  ReleaseWaiting();  // its bytes left the books
  {
    // Whichever task finds the piece next in line parsed consumes it and
    // every parsed one after it; the others only mark theirs parsed.
    std::unique_lock<std::mutex> lock(mu);
    if (!consuming) ConsumeInOrder(lock);
    --tasks;
  }
  ReleaseWaiting();  // (fails them once the consumer has failed)
  Schedule();
  MaybeFinish();
}

// REQUIRES: lock holds mu, and no other thread is consuming.
void Run::ConsumeInOrder(std::unique_lock<std::mutex>& lock) {
  consuming = true;
  while (!pieces.empty() && pieces_popped < parse_next && pieces.front().parsed) {
    Piece& p = pieces.front();
    const bool stopped = !error.ok();
    lock.unlock();
    Status consumed;
    if (!stopped) {
      // Lines count from the object's first line: the lines of its
      // segments consumed before are known now. (lines_before is only
      // touched by the one consuming thread.)
      std::vector<ObjectInfo> complete;
      for (size_t s = 0; s < p.segments.size(); ++s) {
        const Segment& seg = p.segments[s];
        const Mark& m = p.marks[s];
        const Mark end = s + 1 < p.marks.size() ? p.marks[s + 1] : Mark{p.part.records.size(), p.part.bad.size(), 0};
        RenumberLines(&p.part, m.records, end.records, m.bad, end.bad, lines_before[seg.object]);
        lines_before[seg.object] += m.lines;
        if (seg.last) complete.push_back(objects[seg.object]);
      }
      consumed = op.consume(std::move(complete), &p.part);
    }
    FreeBuffer(p.part.records);
    FreeBuffer(p.part.bad);
    p.part.arena.reset();  // (after the records that view it)
    lock.lock();
    counts.AddCounts(p.part);
    pieces.pop_front();
    ++pieces_popped;
    --ahead;
    if (!consumed.ok() && error.ok()) error = std::move(consumed);
    // A slot is free: the next piece starts parsing while this thread
    // consumes the ones already parsed.
    lock.unlock();
    Schedule();
    lock.lock();
  }
  consuming = false;
}

// Calls done once: after every fetch has completed and no parse task is
// running, with the counts once every piece was consumed.
void Run::MaybeFinish() {
  Status st;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (finished || !fetch_done || tasks > 0 || consuming) return;
    // Pieces left: the task that freed their slot is about to start them
    // (Schedule runs after every consumed piece and every cut).
    if (error.ok() && !pieces.empty()) return;
    finished = true;
    st = error;
  }
  if (st.ok()) done(std::move(counts));
  else done(st);
}

}  // namespace

void FetchParse::operator()(StoreCallback<DecodedInput> done) {
  auto run = std::make_shared<Run>();
  run->objects = std::move(objects);
  // Key order, as the consumer sees it.
  std::stable_sort(run->objects.begin(), run->objects.end(),
                   [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  run->op = *this;
  run->op.objects.clear();
  run->done = std::move(done);
  run->max_ahead = max_pieces_ahead > 0 ? max_pieces_ahead : pool->thread_count() + 1;
  run->Start();
}

}  // namespace freshet
