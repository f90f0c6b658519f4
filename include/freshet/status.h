// freshet's one status/result vocabulary.
//
// Every fallible operation returns Status or Result<T>; no exceptions cross
// module lines. Each code has a documented retry meaning, which callers
// (the S3 retry loop, the pipeline's batch retry) act on:
//
//   kOk                  success.
//   kInvalidArgument     caller or input error (bad config key, bad query,
//                        malformed record). Never retried.
//   kNotFound            the object/key/generation does not exist. Never
//                        retried as such; callers may treat it as "empty".
//   kAlreadyExists       a conditional create (If-None-Match: *) lost the
//                        race. Never retried; the caller decides.
//   kFailedPrecondition  the system is not in a state where this can run
//                        (e.g. bad-record ratio over the limit, window too
//                        wide). Retried only on the next trigger.
//   kUnavailable         transient: 5xx, throttling, connection reset.
//                        Retry with exponential backoff and jitter.
//   kDeadlineExceeded    a deadline passed. Retry with backoff.
//   kDataLoss            checksum mismatch, truncated/corrupt data. Never
//                        retried: the bytes themselves are bad.
//   kPermissionDenied    403/credentials. Never retried.
//   kCancelled           shutdown in progress. Never retried.
//   kInternal            a bug. Never retried.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace freshet {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kAlreadyExists = 3,
  kFailedPrecondition = 4,
  kUnavailable = 5,
  kDeadlineExceeded = 6,
  kDataLoss = 7,
  kPermissionDenied = 8,
  kCancelled = 9,
  kInternal = 10,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True for codes a caller should retry with backoff (kUnavailable,
  // kDeadlineExceeded).
  bool retryable() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded;
  }

  // Returns a copy with `context + ": "` prepended to the message.
  Status WithContext(std::string_view context) const;

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace freshet

// Early-return helpers. FRESHET_ASSIGN_OR_RETURN(auto x, Expr()) declares x.
#define FRESHET_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::freshet::Status _st = (expr);              \
    if (!_st.ok()) return _st;                   \
  } while (0)

#define FRESHET_CONCAT_INNER_(a, b) a##b
#define FRESHET_CONCAT_(a, b) FRESHET_CONCAT_INNER_(a, b)
#define FRESHET_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto FRESHET_CONCAT_(_res_, __LINE__) = (expr);                             \
  if (!FRESHET_CONCAT_(_res_, __LINE__).ok())                                 \
    return FRESHET_CONCAT_(_res_, __LINE__).status();                         \
  lhs = std::move(FRESHET_CONCAT_(_res_, __LINE__)).value()
