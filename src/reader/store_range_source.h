// A RandomAccessSource over one object of an ObjectStore: every Read is one
// ranged GET, so a segment can be searched without downloading it. When the
// store's objects are local files (ObjectStore::LocalPath), reads are
// positional reads of the file instead, with no store round trip.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "index/random_access_source.h"
#include "storage/object_store.h"

namespace freshet {

// `size` is the object's size as the generation's manifest records it; a
// GET reporting another size (the object was replaced or truncated) is
// kDataLoss, as is a short body. Reads of zero bytes issue no request.
// A local file is opened once, here; the reads keep the bytes it held then.
// REQUIRES: the store may be used with the blocking helpers from the
// calling threads (see storage/blocking_store.h).
// Thread-safety: Read may be called concurrently.
std::unique_ptr<RandomAccessSource> StoreRangeSource(std::shared_ptr<ObjectStore> store, std::string key,
                                                     uint64_t size);

}  // namespace freshet
