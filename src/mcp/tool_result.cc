#include "mcp/tool_result.h"

#include <boost/json.hpp>

#include "common/json_util.h"
#include "http/envelope.h"

namespace outpost::mcp {
namespace json = boost::json;

json::object ToolSuccess(json::object structured, std::string text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"structuredContent", std::move(structured)},
                      {"isError", false}};
}

json::object ToolError(const Status& status) {
  const http::HttpError http = http::HttpErrorFor(status.code());
  // Internal errors keep their words in the server log only, as on the REST API.
  const bool internal = status.code() == Code::kInternal;
  const std::string message = internal ? "An unexpected error occurred" : status.message();
  std::string text = std::string(http.code) + ": " + message;
  json::object details = internal ? json::object{} : status.details();
  if (const json::value* errors = details.if_contains("errors"); errors && errors->is_array()) {
    for (const json::value& e : errors->get_array()) {
      if (!e.is_object()) continue;
      const json::value* path = e.get_object().if_contains("path");
      const json::value* msg = e.get_object().if_contains("message");
      text += "\n- ";
      if (path && path->is_string() && !path->get_string().empty()) {
        text += std::string(path->get_string()) + ": ";
      }
      if (msg && msg->is_string()) text += std::string(msg->get_string());
    }
  }
  for (const auto& kv : details) {
    if (kv.key() != "errors") text += "\n" + std::string(kv.key()) + ": " + ToJson(kv.value());
  }
  json::object error{{"code", http.code},
                     {"httpStatus", http.http_status},
                     {"message", message},
                     {"details", std::move(details)}};
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"isError", true},
                      {"_meta", json::object{{kErrorMetaKey, std::move(error)}}}};
}

std::optional<int> ToolErrorHttpStatus(const json::object& result) {
  const json::value* is_error = result.if_contains("isError");
  if (!is_error || !is_error->is_bool() || !is_error->get_bool()) return std::nullopt;
  const json::value* meta = result.if_contains("_meta");
  if (!meta || !meta->is_object()) return std::nullopt;
  const json::value* e = meta->get_object().if_contains(kErrorMetaKey);
  if (!e || !e->is_object()) return std::nullopt;
  const json::value* s = e->get_object().if_contains("httpStatus");
  if (!s || !s->is_int64()) return std::nullopt;
  return static_cast<int>(s->get_int64());
}

}  // namespace outpost::mcp
