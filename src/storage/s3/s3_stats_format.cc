#include "storage/s3/s3_stats_format.h"

namespace freshet {

std::string FormatS3Stats(const S3Stats& stats) {
  uint64_t attempts = 0, retries = 0, errors = 0;
  std::string ops;
  for (const auto& [name, op] : stats.operations) {
    attempts += op.attempts;
    retries += op.retries;
    errors += op.errors;
    if (!ops.empty()) ops += ", ";
    ops += name + " " + std::to_string(op.attempts);
    if (op.retries != 0) ops += "/" + std::to_string(op.retries) + "r";
    if (op.errors != 0) ops += "/" + std::to_string(op.errors) + "e";
  }
  return std::to_string(attempts) + " requests (" + std::to_string(retries) + " retries, " + std::to_string(errors) +
         " errors, retry budget exhausted " + std::to_string(stats.retry_budget_exhausted) + ")" +
         (ops.empty() ? "" : ": " + ops) + "; " + std::to_string(stats.bytes_uploaded) + " bytes up, " +
         std::to_string(stats.bytes_downloaded) + " down";
}

}  // namespace freshet
