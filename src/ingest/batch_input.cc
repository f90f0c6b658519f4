#include "ingest/batch_input.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>
#include <tuple>

#include "ingest/json_text.h"

namespace freshet {

void DecodeAndParseObject(RecordParser* parser, const ObjectInfo& info, std::string_view body,
                          const DecodeOptions& decode, DecodedInput* out) {
  if (IsIgnoredObject(info.key, body.size())) {
    ++out->ignored_objects;
    return;
  }
  ++out->objects;
  out->bytes += body.size();
  std::string storage;
  Result<std::string_view> text = DecodeObjectView(info.key, body, &storage, decode);
  if (!text.ok()) {
    ++out->corrupt_objects;
    out->corrupt_bytes += body.size();
    ++out->records_total;
    QuarantineEntry entry;
    entry.source = info.key;
    entry.line = 0;
    entry.reason = std::string(kReasonCorruptObject) + ": " + Utf8Excerpt(text.status().message(), 1000);
    entry.excerpt = Utf8Excerpt(body, kExcerptBytes);
    out->bad.push_back(std::move(entry));
    return;
  }
  out->decoded_bytes += text->size();
  out->records_total += parser->ParseObject(info.key, *text, &out->records, &out->bad);
}

void ParseObjectPart(RecordParser* parser, const ObjectInfo& info, std::string_view text, bool first,
                     DecodedInput* out, uint64_t* lines) {
  if (first) {
    ++out->objects;
    out->bytes += info.size;
    out->decoded_bytes += info.size;  // plain: its text is its bytes
  }
  out->records_total += parser->ParsePiece(info.key, text, false, &out->records, &out->bad, lines);
}

void RenumberLines(DecodedInput* in, size_t records_from, size_t records_to, size_t bad_from, size_t bad_to,
                   uint64_t lines) {
  if (lines == 0) return;
  auto add = [lines](uint32_t line) {
    return static_cast<uint32_t>(std::min<uint64_t>(line + lines, std::numeric_limits<uint32_t>::max()));
  };
  for (size_t i = records_from; i < records_to; ++i) in->records[i].line = add(in->records[i].line);
  for (size_t i = bad_from; i < bad_to; ++i) {
    if (in->bad[i].line > 0) in->bad[i].line = add(in->bad[i].line);
  }
}

DecodedInput DecodeAndParse(const SchemaOptions& schema,
                            const std::vector<std::pair<ObjectInfo, std::string>>& objects,
                            const DecodeOptions& decode) {
  std::vector<size_t> order(objects.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&objects](size_t a, size_t b) { return objects[a].first.key < objects[b].first.key; });
  RecordParser parser(schema);
  DecodedInput out;
  for (size_t i : order) DecodeAndParseObject(&parser, objects[i].first, objects[i].second, decode, &out);
  return out;
}

std::string QuarantineNdjson(const std::vector<QuarantineEntry>& bad) {
  std::vector<const QuarantineEntry*> sorted;
  sorted.reserve(bad.size());
  for (const auto& e : bad) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const QuarantineEntry* a, const QuarantineEntry* b) {
    return std::tie(a->source, a->line, a->reason, a->excerpt) < std::tie(b->source, b->line, b->reason, b->excerpt);
  });
  std::string out;
  for (const QuarantineEntry* e : sorted) {
    // Keys and the reason come from object keys and record bytes: make them
    // valid UTF-8 so the quarantine object is itself valid NDJSON.
    out.append("{\"source\":");
    AppendJsonString(&out, Utf8Excerpt(e->source, e->source.size()));
    out.append(",\"line\":");
    out.append(std::to_string(e->line));
    out.append(",\"reason\":");
    AppendJsonString(&out, Utf8Excerpt(e->reason, e->reason.size()));
    out.append(",\"excerpt\":");
    AppendJsonString(&out, Utf8Excerpt(e->excerpt, e->excerpt.size()));
    out.append("}\n");
  }
  return out;
}

Status CheckBadRatio(uint64_t bad, uint64_t total, double max_ratio) {
  if (total == 0 || static_cast<double>(bad) <= max_ratio * static_cast<double>(total)) return Status::Ok();
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.6g", static_cast<double>(bad) / static_cast<double>(total));
  char limit[32];
  std::snprintf(limit, sizeof limit, "%.6g", max_ratio);
  return Status::FailedPrecondition("bad-record ratio " + std::string(ratio) + " (" + std::to_string(bad) + " of " +
                                    std::to_string(total) + " records) exceeds max_bad_ratio " + limit);
}

uint64_t EstimatedCorruptRecords(const DecodedInput& in) {
  if (in.corrupt_objects == 0) return 0;
  const uint64_t good_records = in.records_total - in.corrupt_objects;
  const uint64_t good_bytes = in.bytes - in.corrupt_bytes;
  if (good_records == 0 || good_bytes == 0) return in.corrupt_objects;
  // ceil(corrupt_bytes * good_records / good_bytes), in long double: the
  // product can pass 2^64 for a large input.
  const long double est = static_cast<long double>(in.corrupt_bytes) * static_cast<long double>(good_records) /
                          static_cast<long double>(good_bytes);
  const uint64_t rounded = static_cast<uint64_t>(est) + (est > static_cast<long double>(static_cast<uint64_t>(est)));
  return std::max(in.corrupt_objects, rounded);
}

Status CheckBadRatio(const DecodedInput& in, double max_ratio) {
  const uint64_t lost = EstimatedCorruptRecords(in);
  const uint64_t bad = in.bad.size() - in.corrupt_objects + lost;
  const uint64_t total = in.records_total - in.corrupt_objects + lost;
  Status st = CheckBadRatio(bad, total, max_ratio);
  if (st.ok() || in.corrupt_objects == 0) return st;
  return Status::FailedPrecondition(st.message() + ", counting an estimated " + std::to_string(lost) +
                                    " records in " + std::to_string(in.corrupt_objects) + " corrupt object" +
                                    (in.corrupt_objects == 1 ? "" : "s") + " (" + std::to_string(in.corrupt_bytes) +
                                    " bytes)");
}

}  // namespace freshet
