// Strict reading of the small JSON documents freshet writes whole and reads
// back: the checkpoint, CURRENT, the restart bookkeeping. A document is
// written by one encoder with a fixed set of keys, so anything else (an
// unknown, missing or repeated key, a wrong type) is damage or another
// format, and every error names the document and the key's path:
//   checkpoint: "recent[1].kind" is "incremental", not "delta" or ...
//   checkpoint: missing key "recent[1].batch_id"
// Errors are kDataLoss (the stored bytes are bad; retrying will not help),
// except a format written by another freshet version: kFailedPrecondition.
// Total: never crashes, whatever the bytes (iterative parsing, so deep
// nesting cannot exhaust the stack; strings are validated as UTF-8).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "freshet/status.h"
#include "freshet/time.h"

namespace freshet {

class JsonObject;

class JsonDocument {
 public:
  // `what` names the document in every message ("checkpoint", "CURRENT").
  // Larger input than `max_bytes`, invalid JSON and a root that is not an
  // object are kDataLoss.
  static Result<JsonDocument> Parse(std::string_view json, std::string what, size_t max_bytes);

  JsonObject root() const;

 private:
  JsonDocument() = default;
  std::shared_ptr<const rapidjson::Document> doc_;
  std::shared_ptr<const std::string> what_;
};

// A JSON object inside a JsonDocument; cheap to copy, valid while the
// document lives.
class JsonObject {
 public:
  // The format field, checked before anything else (it decides how to read
  // the rest): missing or not an integer is kDataLoss, another value is
  // kFailedPrecondition "<what> "format" is N; this freshet reads format W".
  Status CheckFormat(std::string_view key, int want) const;
  // Exactly these keys, each once.
  Status CheckKeys(std::initializer_list<std::string_view> keys) const;
  // Every key of `keys` and any of `optional` (keys a later writer of the
  // same format added; older documents lack them), each once, no other.
  Status CheckKeys(std::initializer_list<std::string_view> keys,
                   std::initializer_list<std::string_view> optional) const;
  bool Has(std::string_view key) const;
  // At least these keys; others are ignored (documents that newer writers
  // may extend without a format change, such as manifests).
  Status RequireKeys(std::initializer_list<std::string_view> keys) const;

  // Each REQUIRES the key to exist (CheckKeys first).
  Status ReadString(std::string_view key, std::string* out) const;
  Status ReadUint64(std::string_view key, uint64_t* out) const;
  Status ReadTime(std::string_view key, TimePoint* out) const;                 // RFC 3339
  Status ReadOptionalTime(std::string_view key, std::optional<TimePoint>* out) const;  // RFC 3339 or null
  Status ReadStringArray(std::string_view key, std::vector<std::string>* out) const;
  Status ReadUint64Array(std::string_view key, std::vector<uint64_t>* out) const;
  bool IsNull(std::string_view key) const;  // REQUIRES: Has(key)
  Result<JsonObject> ReadObject(std::string_view key) const;
  // An array of objects, at most `max_entries` long.
  Result<std::vector<JsonObject>> ReadObjects(std::string_view key, size_t max_entries) const;

  // kDataLoss "<what>: "<path of key>" <problem>".
  Status Bad(std::string_view key, std::string_view problem) const;

 private:
  friend class JsonDocument;
  JsonObject(const rapidjson::Value* value, std::shared_ptr<const std::string> what, std::string path,
             std::shared_ptr<const rapidjson::Document> doc)
      : value_(value), what_(std::move(what)), path_(std::move(path)), doc_(std::move(doc)) {}
  const rapidjson::Value& Member(std::string_view key) const;
  std::string PathOf(std::string_view key) const;

  const rapidjson::Value* value_;
  std::shared_ptr<const std::string> what_;
  std::string path_;  // "" for the root, else e.g. "recent[1]"
  std::shared_ptr<const rapidjson::Document> doc_;
};

}  // namespace freshet
