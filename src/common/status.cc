#include "common/status.h"

#include <boost/json/array.hpp>

namespace outpost {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kConflict:
      return "CONFLICT";
    case Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Code::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case Code::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Code::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Code::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case Code::kUnavailable:
      return "UNAVAILABLE";
    case Code::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string_view ErrorName(Code code) {
  switch (code) {
    case Code::kOk:
      return "";
    case Code::kInvalidArgument:
      return "VALIDATION_ERROR";
    case Code::kUnauthenticated:
      return "AUTHENTICATION_ERROR";
    case Code::kPermissionDenied:
      return "AUTHORIZATION_ERROR";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return "CONFLICT";
    case Code::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case Code::kResourceExhausted:
      return "RATE_LIMIT_EXCEEDED";
    case Code::kUnavailable:
      return "SERVICE_UNAVAILABLE";
    case Code::kInternal:
      return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

Status Status::Invalid(const std::vector<FieldError>& errors, std::string message) {
  Status s(Code::kInvalidArgument, std::move(message));
  boost::json::array list;
  for (const auto& e : errors) list.push_back({{"path", e.path}, {"message", e.message}});
  s.WithDetail("errors", std::move(list));
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace outpost
