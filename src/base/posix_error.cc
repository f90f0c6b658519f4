#include "base/posix_error.h"

#include <errno.h>
#include <string.h>

namespace freshet {

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);  // GNU variant: returns the text
}

Status PosixError(std::string what, int err) {
  what += ": ";
  what += ErrnoText(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(what));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(what));
    case EEXIST:
      return Status::AlreadyExists(std::move(what));
    case ENAMETOOLONG:
    case EINVAL:
    case ELOOP:
    case EISDIR:
      return Status::InvalidArgument(std::move(what));
    default:
      // EIO, ENOSPC, EDQUOT, EMFILE, ENOMEM, ...: possibly transient.
      return Status::Unavailable(std::move(what));
  }
}

}  // namespace freshet
