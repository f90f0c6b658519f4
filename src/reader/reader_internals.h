// Back doors into Reader for tests and tools that already hold a store
// (e.g. one that counts requests); not part of the public API.
#pragma once

#include <memory>

#include "freshet/reader.h"
#include "storage/object_store.h"

namespace freshet {

struct ReaderInternals {
  // Reader::Open over an already opened sink store.
  static Result<std::unique_ptr<Reader>> OpenOnStore(std::shared_ptr<ObjectStore> sink, ReaderOptions options = {});
};

}  // namespace freshet
