#include "storage/store_uri.h"

#include <string>

#include "storage/memory_store.h"
#include "storage/s3/s3_store.h"

namespace freshet {
namespace {

Status BadUri(std::string_view uri, std::string_view problem) {
  return Status::InvalidArgument("store URI '" + std::string(uri) + "': " + std::string(problem));
}

Result<std::unique_ptr<ObjectStore>> OpenLocal(std::string_view uri, std::string_view path,
                                               LocalStore::Options options) {
  if (path.empty()) return BadUri(uri, "empty path");
  if (path.find('\0') != std::string_view::npos) return BadUri(uri, "path contains a NUL byte");
  options.create_if_missing = true;
  // Relative paths resolve against the current directory: LocalStore::Open
  // canonicalizes with realpath().
  Result<std::unique_ptr<LocalStore>> store = LocalStore::Open(std::string(path), options);
  if (!store.ok()) return store.status().WithContext("store URI '" + std::string(uri) + "'");
  return std::unique_ptr<ObjectStore>(std::move(store).value());
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri) {
  return OpenStore(uri, LocalStore::Options());
}

Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, const S3Options& s3, IoLoop* loop) {
  return OpenStore(uri, LocalStore::Options(), s3, loop);
}

Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, LocalStore::Options local_options,
                                               const S3Options& s3, IoLoop* loop) {
  if (uri.empty()) return Status::InvalidArgument("store URI is empty");
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) return OpenLocal(uri, uri, local_options);  // bare path
  std::string_view scheme = uri.substr(0, sep);
  std::string_view rest = uri.substr(sep + 3);
  if (scheme == "local") {
    // "local:///abs" → "/abs"; "local://rel" → "rel".
    return OpenLocal(uri, rest, local_options);
  }
  if (scheme == "mem") {
    if (rest.empty()) return BadUri(uri, "missing store name after mem://");
    return std::unique_ptr<ObjectStore>(MemoryStore::OpenNamed(std::string(rest)));
  }
  if (scheme == "s3") {
    Result<std::unique_ptr<S3Store>> store = S3Store::Open(uri, s3, s3::ProcessEnvironment(), loop);
    if (!store.ok()) return store.status();
    return std::unique_ptr<ObjectStore>(std::move(store).value());
  }
  if (scheme.empty()) return BadUri(uri, "missing scheme before '://'");
  return BadUri(uri, "unknown scheme '" + std::string(scheme) + "' (expected local://, mem:// or s3://, or a bare path)");
}

}  // namespace freshet
