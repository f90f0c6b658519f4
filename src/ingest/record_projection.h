// A parsed record cut down to what a document can read of it, for records
// kept in memory between batches (the window state: SPEC §4).
#pragma once

#include <memory>
#include <vector>

#include "ingest/build_schema.h"
#include "ingest/entity_record.h"

namespace freshet {

// Rewrites r.fields_json as the canonical JSON object of r's present
// catalog fields only (the ones its level keeps: RecordParser fills no
// other span), in the order they had, with r.fields pointing into it, and
// frees r.source. Every span's text is unchanged, so every document, entity
// encoding and comparison the build makes of r is unchanged; what goes is
// the members no document reads ("type", the id, the parent's id, the
// version: they live in r's own fields) and the per-record copy of the
// object key (the window holds it once per object).
//
// Without a source, Supersedes orders two records of equal version and
// tiebreak -- copies of the very same line in two objects -- by line only,
// or not at all: either copy makes the same document.
// On the 1M-ad benchmark's records: ~140 of ~1,000 bytes per held record.
void ProjectToKept(EntityRecord* r, const BuildSchema& schema);

// How the window holds an object's records: every record of `records`
// packed (EntityRecord::Pack) into one block, each entry its present kept
// fields' spans and values, with no keys. Every field() is unchanged, so
// are the documents made of the records; json() is no longer a JSON
// object. The caller keeps the block for as long as the records are used
// (copies of them own their fields). nullptr, and each record projected
// on its own, when the catalog has more than 64 fields.
std::unique_ptr<char[]> ProjectIntoArena(std::vector<EntityRecord>* records, const BuildSchema& schema);

}  // namespace freshet
