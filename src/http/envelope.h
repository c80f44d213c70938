// The JSON envelope of every API response (ARCHITECTURE §3) and the one mapping from a Status
// code to an HTTP status and error code string.
//
//   success: {"success":true,"data":…,"meta":{"requestId","timestamp"[,"pagination"]}}
//   error:   {"success":false,"error":{"code","message","details"},"meta":{…}}
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "http/http_types.h"

namespace outpost::http {

struct HttpError {
  int http_status;
  std::string_view code;  // "VALIDATION_ERROR", ...
};

// The only Code -> HTTP mapping: the HTTP status, and ErrorName(code) (common/status.h) as the
// error code. kOk maps to 200 with an empty code.
HttpError HttpErrorFor(Code code);

// Error codes of the transport-level failures that have no Status code.
inline constexpr std::string_view kMethodNotAllowed = "METHOD_NOT_ALLOWED";
inline constexpr std::string_view kUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
inline constexpr std::string_view kHeadersTooLarge = "REQUEST_HEADERS_TOO_LARGE";
inline constexpr std::string_view kUriTooLong = "URI_TOO_LONG";

struct Meta {
  std::string request_id;
  WallTime timestamp;
};

struct Pagination {
  std::optional<std::string> cursor;  // the cursor of the next page; null on the last page
  bool has_more = false;
  int limit = 20;
};

// A JSON body that is not enveloped (health probes, the banner).
Response JsonResponse(int status, const boost::json::value& body);

Response Success(int status, boost::json::value data, const Meta& meta);
Response SuccessPage(boost::json::value data, const Pagination& page, const Meta& meta);

// The error envelope for a non-OK status. kInternal is served as "An unexpected error occurred"
// without details and the real message is logged. A kResourceExhausted status with
// details.retryAfterSeconds also gets a Retry-After header.
Response Error(const Status& status, const Meta& meta);

// An error envelope with an explicit HTTP status and code, for transport-level failures (405,
// 414, 415, 431, malformed HTTP).
Response ErrorWithCode(int http_status, std::string_view code, std::string_view message,
                       const Meta& meta, boost::json::object details = {});

// True when a client-sent X-Request-ID is acceptable: [A-Za-z0-9._:-]{1,128}.
bool IsValidRequestId(std::string_view id);

// The request id to answer with: the client's X-Request-ID when valid, else a new ULID.
std::string ChooseRequestId(const std::optional<std::string>& client_id, WallTime now);

}  // namespace outpost::http
