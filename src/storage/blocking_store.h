// Synchronous wrappers over ObjectStore, for CLI tools and tests.
//
// Each call issues the asynchronous operation and waits for its callback.
// REQUIRES: not called from a thread the store needs in order to complete
// the call (one of the store's own I/O threads, or an event-loop thread
// that delivers its callbacks): that would deadlock. Never call these from
// an actor.
#pragma once

#include <string>
#include <vector>

#include "storage/object_store.h"

namespace freshet {

Result<ListPage> ListPageSync(ObjectStore& store, ListRequest req);

// Every object under `prefix` after `start_after`, ascending, paging
// through (flat listing: no delimiter).
Result<std::vector<ObjectInfo>> ListAllSync(ObjectStore& store, std::string prefix, std::string start_after = "");

Result<GetResult> GetSync(ObjectStore& store, GetRequest req);
// Whole object.
Result<GetResult> GetSync(ObjectStore& store, std::string key);

Result<ObjectInfo> PutSync(ObjectStore& store, PutRequest req);
Result<ObjectInfo> PutSync(ObjectStore& store, std::string key, std::string body, bool if_none_match = false);

Result<ObjectInfo> HeadSync(ObjectStore& store, std::string key);

Status DeleteSync(ObjectStore& store, std::string key);

}  // namespace freshet
