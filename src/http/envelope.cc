#include "http/envelope.h"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::http {
namespace json = boost::json;
namespace {

// The HTTP half of the mapping; the error name is common/status.h's ErrorName.
int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    // A wrong state is reported as a conflict with the current state (details.currentStatus),
    // as the contract knows no separate precondition code.
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 409;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

json::object MetaJson(const Meta& meta) {
  return {{"requestId", meta.request_id}, {"timestamp", FormatTime(meta.timestamp)}};
}

}  // namespace

HttpError HttpErrorFor(Code code) { return {HttpStatusFor(code), ErrorName(code)}; }

Response JsonResponse(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = ToJson(body);  // plain decimals (common/json_util.h)
  return r;
}

// Built field by field: an initializer list would deep-copy `data` (value_ref copies).
json::object SuccessEnvelope(json::value&& data, json::object&& meta) {
  json::object o;
  o.reserve(3);
  o.emplace("success", true);
  o.emplace("data", std::move(data));
  o.emplace("meta", std::move(meta));
  return o;
}

Response Success(int status, json::value data, const Meta& meta) {
  return JsonResponse(status, SuccessEnvelope(std::move(data), MetaJson(meta)));
}

Response SuccessPage(json::value data, const Pagination& page, const Meta& meta) {
  json::object m = MetaJson(meta);
  json::value cursor = nullptr;
  if (page.cursor) cursor = *page.cursor;
  m["pagination"] = {{"cursor", cursor}, {"hasMore", page.has_more}, {"limit", page.limit}};
  return JsonResponse(200, SuccessEnvelope(std::move(data), std::move(m)));
}

Response ErrorWithCode(int http_status, std::string_view code, std::string_view message,
                       const Meta& meta, json::object details) {
  json::object error{{"code", code}, {"message", message}, {"details", std::move(details)}};
  return JsonResponse(
      http_status,
      json::object{{"success", false}, {"error", std::move(error)}, {"meta", MetaJson(meta)}});
}

Response Error(const Status& status, const Meta& meta) {
  HttpError e = HttpErrorFor(status.code());
  if (status.ok()) e = HttpErrorFor(Code::kInternal);  // an OK status is no error: a bug
  if (e.http_status == 500) {
    // The real message may name files, SQL or internals: log it, serve a generic one.
    spdlog::error("request {}: internal error: {}", meta.request_id, status.ToString());
    return ErrorWithCode(500, e.code, "An unexpected error occurred", meta);
  }
  Response r = ErrorWithCode(e.http_status, e.code, status.message(), meta, status.details());
  if (status.code() == Code::kResourceExhausted) {
    if (auto it = status.details().find("retryAfterSeconds"); it != status.details().end()) {
      const json::value& v = it->value();
      r.headers.Set("Retry-After", v.is_string() ? std::string(v.get_string()) : ToJson(v));
    }
  }
  return r;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ChooseRequestId(const std::optional<std::string>& client_id, WallTime now) {
  if (client_id && IsValidRequestId(*client_id)) return *client_id;
  return NewUlid(now);
}

}  // namespace outpost::http
