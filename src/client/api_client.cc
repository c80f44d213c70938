#include "client/api_client.h"

#include "common/json_util.h"

namespace outpost::client {
namespace {

Code CodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kPayloadTooLarge;
    case 429:
      return Code::kResourceExhausted;
    case 503:
      return Code::kUnavailable;
    default:
      return http_status >= 500 ? Code::kInternal : Code::kInvalidArgument;
  }
}

std::string Reason(int http_status) {
  switch (http_status) {
    case 404:
      return "not found";
    case 500:
      return "internal server error";
    case 502:
      return "bad gateway";
    case 503:
      return "service unavailable";
    default:
      return "HTTP " + std::to_string(http_status);
  }
}

}  // namespace

Status StatusFromHttpError(int http_status, std::string_view body) {
  Status status(CodeForHttp(http_status), Reason(http_status));
  status.WithDetail("httpStatus", http_status);
  auto parsed = ParseJson(body);
  if (!parsed.ok() || !parsed->is_object()) return status;
  const auto* error = parsed->as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return status;
  const auto& e = error->as_object();
  if (auto message = GetString(e, "message")) status = Status(status.code(), *message);
  status.WithDetail("httpStatus", http_status);
  if (auto code = GetString(e, "code")) status.WithDetail("errorCode", boost::json::string(*code));
  if (const auto* details = e.if_contains("details"); details && details->is_object()) {
    status.WithDetail("details", *details);
  }
  return status;
}

Result<boost::json::value> UnwrapEnvelope(const HttpResult& response) {
  if (response.status < 200 || response.status >= 300) {
    return StatusFromHttpError(response.status, response.body);
  }
  auto parsed = ParseJson(response.body);
  if (!parsed.ok() || !parsed->is_object()) {
    return Internal("the server answered HTTP " + std::to_string(response.status) +
                    " without a JSON envelope");
  }
  auto& obj = parsed->as_object();
  auto* data = obj.if_contains("data");
  if (GetBool(obj, "success") != true || data == nullptr) {
    return Internal("the server answered an envelope without success/data");
  }
  return std::move(*data);
}

ApiClient::ApiClient(Endpoint endpoint, std::string api_key, RequestOptions base)
    : endpoint_(std::move(endpoint)), api_key_(std::move(api_key)), base_(std::move(base)) {
  // Retrying is decided per call, never inherited.
  base_.retry_for = Millis(0);
  base_.retry_on_5xx = false;
  base_.on_retry = nullptr;
}

Result<HttpResult> ApiClient::Call(std::string_view method, const std::string& target,
                                   std::string_view body, const RequestOptions& options) {
  Headers headers;
  if (!api_key_.empty()) headers.emplace_back("Authorization", "Bearer " + api_key_);
  return Request(endpoint_, method, target, body, headers, options);
}

Result<boost::json::value> ApiClient::Dispatch(const boost::json::object& body) {
  auto r = Call("POST", "/dispatch", ToJson(body), base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::GetRun(std::string_view run_id, const RequestOptions* retry) {
  auto r = Call("GET", "/runs/" + UrlEncode(run_id), {}, retry ? *retry : base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::ListRuns(const ListRunsQuery& q) {
  std::string target = "/runs";
  char sep = '?';
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    target += sep + std::string(key) + "=" + UrlEncode(value);
    sep = '&';
  };
  if (q.limit) add("limit", std::to_string(*q.limit));
  add("status", q.status);
  add("agent", q.agent);
  add("cursor", q.cursor);
  add("repo", q.repo);
  add("group", q.group);
  add("since", q.since);
  for (const std::string& tag : q.tags) add("tag", tag);
  auto r = Call("GET", target, {}, base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::Get(const std::string& target) {
  auto r = Call("GET", target, {}, base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::Cancel(std::string_view run_id, const std::string& reason) {
  boost::json::object body;
  if (!reason.empty()) body["reason"] = reason;
  auto r = Call("POST", "/runs/" + UrlEncode(run_id) + "/cancel", ToJson(body), base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::Promote(std::string_view run_id,
                                              const boost::json::object& body) {
  auto r = Call("POST", "/runs/" + UrlEncode(run_id) + "/promote", ToJson(body), base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<boost::json::value> ApiClient::Group(std::string_view group_id) {
  auto r = Call("GET", "/groups/" + UrlEncode(group_id), {}, base_);
  if (!r.ok()) return r.status();
  return UnwrapEnvelope(*r);
}

Result<HealthReply> ApiClient::Health(bool fleet) {
  auto r = Call("GET", fleet ? "/health/fleet" : "/health", {}, base_);
  if (!r.ok()) return r.status();
  auto parsed = ParseJson(r->body);
  if (!parsed.ok() || !parsed->is_object()) {
    if (r->status >= 300) return StatusFromHttpError(r->status, r->body);
    return Internal("the server answered /health without a JSON object");
  }
  if (GetBool(parsed->as_object(), "success") == false) {
    return StatusFromHttpError(r->status, r->body);  // an error envelope (e.g. 401)
  }
  return HealthReply{r->status, std::move(*parsed)};
}

}  // namespace outpost::client
