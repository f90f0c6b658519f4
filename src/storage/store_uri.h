// Opens an ObjectStore from a URI, as written in config files and on the
// command line.
//
//   local:///abs/path      LocalStore rooted at /abs/path
//   local://rel/path       LocalStore rooted at <cwd>/rel/path
//   /abs/path, rel/path    the same, as a bare path (no "scheme://")
//   mem://name             the process-wide MemoryStore `name` (tests)
//   s3://bucket/prefix     S3Store (storage/s3/s3_store.h): the s3 options
//                          given, then the AWS environment (AWS_REGION,
//                          AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)
//
// A LocalStore root is created (with its parents) if missing. Errors are
// kInvalidArgument naming the URI and the problem, or the LocalStore's own
// errors (e.g. kPermissionDenied) with the URI as context.
#pragma once

#include <memory>
#include <string_view>

#include "base/io_loop.h"
#include "config/options.h"
#include "storage/local_store.h"
#include "storage/object_store.h"

namespace freshet {

Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri);

// Same, with the config's s3 section for s3:// URIs. An S3 store's HTTP
// connections run on `loop` (the daemon's; it must outlive the store), or
// on a private one-thread loop when it is nullptr.
Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, const S3Options& s3, IoLoop* loop = nullptr);

// Same, with explicit options for a local store (create_if_missing is
// forced on).
Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, LocalStore::Options local_options,
                                               const S3Options& s3 = {}, IoLoop* loop = nullptr);

}  // namespace freshet
