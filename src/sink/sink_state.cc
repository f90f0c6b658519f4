#include "sink/sink_state.h"

#include "storage/blocking_store.h"

namespace freshet {

Result<std::optional<CurrentPointer>> ReadCurrentPointer(ObjectStore& sink) {
  Result<GetResult> cur = GetSync(sink, GetRequest{std::string(kCurrentKey), std::nullopt});
  if (!cur.ok()) {
    if (cur.status().code() == StatusCode::kNotFound) return std::optional<CurrentPointer>();
    return cur.status().WithContext("read " + sink.Describe() + "/" + std::string(kCurrentKey));
  }
  Result<CurrentPointer> decoded = DecodeCurrent(cur->body);
  if (!decoded.ok()) return decoded.status().WithContext(sink.Describe() + "/" + std::string(kCurrentKey));
  return std::optional<CurrentPointer>(std::move(decoded).value());
}

Result<SinkState> RecoverState(ObjectStore& sink) {
  SinkState state;
  FRESHET_ASSIGN_OR_RETURN(state.current, ReadCurrentPointer(sink));
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
