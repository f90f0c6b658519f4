#include "sink/sink_state.h"

#include "storage/blocking_store.h"

namespace freshet {

namespace {

// CURRENT and its ETag; nullopt when there is none.
Result<std::optional<std::pair<CurrentPointer, std::string>>> ReadCurrent(ObjectStore& sink) {
  using Out = std::optional<std::pair<CurrentPointer, std::string>>;
  Result<GetResult> cur = GetSync(sink, GetRequest{std::string(kCurrentKey), std::nullopt});
  if (!cur.ok()) {
    if (cur.status().code() == StatusCode::kNotFound) return Out();
    return cur.status().WithContext("read " + sink.Describe() + "/" + std::string(kCurrentKey));
  }
  Result<CurrentPointer> decoded = DecodeCurrent(cur->body);
  if (!decoded.ok()) return decoded.status().WithContext(sink.Describe() + "/" + std::string(kCurrentKey));
  return Out(std::pair(std::move(decoded).value(), std::move(cur->info.etag)));
}

}  // namespace

Result<std::optional<CurrentPointer>> ReadCurrentPointer(ObjectStore& sink) {
  FRESHET_ASSIGN_OR_RETURN(auto read, ReadCurrent(sink));
  if (!read) return std::optional<CurrentPointer>();
  return std::optional<CurrentPointer>(std::move(read->first));
}

Result<SinkState> RecoverState(ObjectStore& sink) {
  SinkState state;
  FRESHET_ASSIGN_OR_RETURN(auto read, ReadCurrent(sink));
  if (read) {
    state.current = std::move(read->first);
    state.current_etag = std::move(read->second);
  }
  if (state.current) state.checkpoint = state.current->checkpoint;
  Result<ObjectInfo> legacy = HeadSync(sink, std::string(kLegacyCheckpointKey));
  if (legacy.ok()) {
    state.legacy_checkpoint_file = true;
  } else if (legacy.status().code() != StatusCode::kNotFound) {
    return legacy.status().WithContext("head " + sink.Describe() + "/" + std::string(kLegacyCheckpointKey));
  }
  return state;
}

}  // namespace freshet
