// A stable fingerprint of a schema, recorded in every manifest so that a
// reader or a `verify` run can tell whether a generation was built with the
// schema it is looking at.
#pragma once

#include <string>

#include "config/options.h"

namespace freshet {

// 16 lowercase hex digits: XXH64 (seed 0) of CanonicalSchemaText(schema).
// Deterministic across runs, hosts and builds. Every field counts, and list
// order counts too (field order may shape the index), so any schema edit
// yields a new hash. Changing the serialization is a format change: bump
// the "v1" tag in it.
std::string SchemaHash(const SchemaOptions& schema);

// The canonical serialization SchemaHash digests: one "key=<len>:<bytes>"
// line per scalar, "key#<count>" followed by the elements for lists, levels
// in order. Length prefixes make it unambiguous whatever the names contain.
std::string CanonicalSchemaText(const SchemaOptions& schema);

}  // namespace freshet
