// Feeds arbitrary bytes to SegmentReader as one file of an otherwise valid
// segment. Input: one selector byte (bits 0-1: which file; bit 2: "reseal",
// i.e. recompute every block, file and footer checksum after mutation so
// the structural checks behind the checksums get exercised), then the file.
//
// Properties: no crash or unbounded allocation; every error is kDataLoss
// (or kNotFound for Stored of a tombstone); if Verify() passes, every read
// succeeds.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index/checksum.h"
#include "index/coding.h"
#include "index/segment_format.h"
#include "index/segment_reader.h"
#include "index/segment_writer.h"

namespace {

using freshet::Status;
using freshet::StatusCode;

const char* const kNames[4] = {"ids", "terms", "postings", "stored"};

std::map<std::string, std::string> BuildBase() {
  freshet::SegmentWriterOptions o;
  o.ids_per_block = 3;
  o.terms_block_bytes = 24;
  o.postings_block_bytes = 8;
  o.stored_block_bytes = 40;
  freshet::SegmentWriter w(o);
  for (int i = 0; i < 10; ++i) {
    freshet::IndexDoc d;
    d.id = "ad-" + std::to_string(i * 37 % 11);
    d.tombstone = i % 4 == 3;
    if (!d.tombstone) {
      d.terms = {freshet::MakeTerm("all", "1"), freshet::MakeTerm("id", d.id),
                 freshet::MakeTerm("t", i % 2 ? "odd" : "even")};
      d.stored = i == 0 ? std::string(80, 'z') : "{\"n\":" + std::to_string(i) + "}";
    }
    w.Add(std::move(d));
  }
  auto files = w.Finish();
  if (!files.ok()) std::abort();
  std::map<std::string, std::string> m;
  for (auto& f : *files) m[f.name] = std::move(f.bytes);
  return m;
}

const std::map<std::string, std::string>& Base() {
  static const auto* base = new std::map<std::string, std::string>(BuildBase());
  return *base;
}

// Recomputes checksums wherever the bytes still parse as blocks.
void Reseal(std::string* f) {
  using freshet::kBlockOverhead;
  if (f->size() < freshet::kSegmentHeaderSize + freshet::kSegmentFooterSize) return;
  const size_t footer = f->size() - freshet::kSegmentFooterSize;
  size_t at = freshet::kSegmentHeaderSize;
  while (at + kBlockOverhead <= footer) {
    const uint64_t len = freshet::DecodeFixed32(f->data() + at + 1);
    if (len > footer - at - kBlockOverhead) break;
    const uint64_t sum = freshet::Xxh64(std::string_view(f->data() + at, 5 + len));
    std::string enc;
    freshet::PutFixed64(&enc, sum);
    f->replace(at + 5 + len, 8, enc);
    at += kBlockOverhead + len;
  }
  std::string enc;
  freshet::PutFixed64(&enc, freshet::Xxh64(std::string_view(f->data(), footer)));
  f->replace(footer + 40, 8, enc);
  enc.clear();
  freshet::PutFixed64(&enc, freshet::Xxh64(std::string_view(f->data() + footer, 48)));
  f->replace(footer + 48, 8, enc);
}

void Expect(bool cond) {
  if (!cond) std::abort();
}

void ExpectDataLoss(const Status& s) { Expect(s.ok() || s.code() == StatusCode::kDataLoss); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::map<std::string, std::string> files = Base();
  const std::string name = kNames[data[0] & 3];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 4) Reseal(&bytes);
  files[name] = std::move(bytes);

  auto r = freshet::SegmentReader::Open(
      [&files](const std::string& n) -> freshet::Result<std::unique_ptr<freshet::RandomAccessSource>> {
        return freshet::StringSource(files[n]);
      },
      freshet::SegmentReaderOptions{4096});
  if (!r.ok()) {
    ExpectDataLoss(r.status());
    return 0;
  }
  const freshet::SegmentReader& s = **r;
  const Status verified = s.Verify();
  ExpectDataLoss(verified);
  auto check = [&](const Status& st, bool not_found_ok = false) {
    if (verified.ok()) {
      Expect(st.ok() || (not_found_ok && st.code() == StatusCode::kNotFound));
    } else if (!(not_found_ok && st.code() == StatusCode::kNotFound)) {
      ExpectDataLoss(st);
    }
  };
  const uint32_t n = std::min<uint32_t>(s.num_docs(), 64);
  for (uint32_t d = 0; d < n; ++d) {
    auto id = s.DocId(d);
    check(id.status());
    if (id.ok()) {
      auto found = s.FindDoc(*id);
      check(found.status());
      if (verified.ok()) Expect(found.ok() && *found == d);
    }
    check(s.IsTombstone(d).status());
    check(s.Stored(d).status(), /*not_found_ok=*/true);
  }
  std::vector<std::string> terms;
  check(s.ForEachTerm([&](std::string_view t, uint32_t) {
    if (terms.size() < 64) terms.emplace_back(t);
  }));
  for (const auto& t : terms) check(s.Postings(t).status());
  check(s.Postings(freshet::MakeTerm("t", "odd")).status());
  check(s.FindDoc("ad-5").status());
  return 0;
}

std::vector<std::string> FreshetFuzzSeeds() {
  std::vector<std::string> seeds;
  for (int i = 0; i < 4; ++i) {
    for (char reseal : {0, 4}) {
      seeds.push_back(std::string(1, static_cast<char>(i | reseal)) + Base().at(kNames[i]));
    }
  }
  return seeds;
}
