// Status and Result<T>: the error currency at every component boundary.
//
// A code says what the caller should do next (retry on kUnavailable, fix the input on
// kInvalidArgument, ...). Vendor errors (SQLite, errno, HTTP) are translated inside the component
// that met them and never cross a boundary. The error names clients see are ErrorName's; each
// protocol maps codes to its own status in exactly one function (api/envelope.cc for HTTP, cli
// for exit codes).
#pragma once

#include <boost/json/object.hpp>
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace outpost {

enum class Code {
  kOk,
  kInvalidArgument,     // bad input; do not retry
  kNotFound,            // no such resource (or not visible to the caller)
  kConflict,            // lost a race or a conditional write; re-read and decide
  kFailedPrecondition,  // the resource is in the wrong state for this operation
  kPayloadTooLarge,
  kUnauthenticated,
  kPermissionDenied,
  kResourceExhausted,  // a quota or rate limit
  kUnavailable,        // transient; retry with backoff
  kInternal,           // a broken invariant or an unexpected failure
};

// The code's own name ("INVALID_ARGUMENT", ...), for logs and Status::ToString.
std::string_view CodeName(Code code);

// The error name clients see (ARCHITECTURE §3): the REST envelope's and the MCP tools'
// `error.code`, the audit record's errorCode — "VALIDATION_ERROR", "AUTHENTICATION_ERROR",
// "AUTHORIZATION_ERROR", "NOT_FOUND", "CONFLICT" (kFailedPrecondition too: the contract knows
// no separate precondition name), "PAYLOAD_TOO_LARGE", "RATE_LIMIT_EXCEEDED",
// "SERVICE_UNAVAILABLE", "INTERNAL_ERROR"; "" for kOk.
std::string_view ErrorName(Code code);

// One bad field of a request, as listed in `details.errors[]`.
struct FieldError {
  std::string path;
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Structured details served in the error envelope (`error.details`).
  const boost::json::object& details() const { return details_; }
  Status& WithDetail(std::string_view key, boost::json::value value) {
    details_[key] = std::move(value);
    return *this;
  }
  // Validation errors: a kInvalidArgument status whose details.errors lists every bad field.
  static Status Invalid(const std::vector<FieldError>& errors,
                        std::string message = "Request validation failed");

  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  boost::json::object details_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace outpost

// Propagates a non-OK Status from an expression yielding Status.
#define OUTPOST_RETURN_IF_ERROR(expr) \
  do {                                \
    ::outpost::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

// OUTPOST_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a Result<T>) once; on error returns its
// Status from the enclosing function (which returns Status or some Result<U>), otherwise moves
// the value into `lhs` — a declaration (`auto run`, `const Run& run` binds to the hidden
// temporary, which lives to the end of the scope) or an existing variable. A statement, not an
// expression; usable several times in one scope.
#define OUTPOST_ASSIGN_OR_RETURN(lhs, expr) \
  OUTPOST_ASSIGN_OR_RETURN_IMPL(OUTPOST_STATUS_CONCAT(_outpost_result_, __COUNTER__), lhs, expr)
#define OUTPOST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
#define OUTPOST_STATUS_CONCAT(a, b) OUTPOST_STATUS_CONCAT_INNER(a, b)
#define OUTPOST_STATUS_CONCAT_INNER(a, b) a##b
