#include "mcp/protocol.h"

#include <boost/json.hpp>

#include "common/json_util.h"
#include "mcp/tools.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

constexpr std::string_view kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

constexpr std::string_view kInstructions =
    "Outpost runs AI coding agents (claude, codex, gemini, aider, grok) and shell commands in "
    "isolated workspaces. dispatch starts a run and returns its runId at once; get_run with "
    "waitSeconds waits for it to end (COMPLETED, FAILED, TIMEOUT or CANCELLED) and includeOutput "
    "shows its output; get_logs pages through the output, get_artifacts gives diff.patch and "
    "summary URLs, cancel stops a run, list_runs finds runs, fleet_status lists the agents, health "
    "tells whether the server and its fleet are healthy.";

bool ValidId(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

json::object InitializeResult(const json::object& params) {
  std::string requested;
  if (auto v = GetString(params, "protocolVersion")) requested = *v;
  return json::object{
      {"protocolVersion", NegotiateVersion(requested)},
      {"capabilities", json::object{{"tools", json::object{{"listChanged", false}}}}},
      {"serverInfo",
       json::object{{"name", "outpost"}, {"title", "Outpost"}, {"version", OUTPOST_VERSION}}},
      {"instructions", kInstructions}};
}

}  // namespace

bool IsSupportedVersion(std::string_view version) {
  for (auto v : kVersions) {
    if (v == version) return true;
  }
  return false;
}

std::string SupportedVersionsText() {
  std::string out;
  for (auto v : kVersions) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

std::string NegotiateVersion(std::string_view requested) {
  return std::string(IsSupportedVersion(requested) ? requested : kLatestProtocolVersion);
}

json::object Reply(const json::value& id, json::value result) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json::object ErrorReply(const json::value& id, int code, std::string_view message,
                        json::value data) {
  json::object error{{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

Parsed ParseMessage(std::string_view text) {
  Parsed out;
  // The limits of the REST bodies, deeper for tool arguments' schemas.
  Result<json::value> v = ParseJsonBounded(text, 64, 10'000);
  if (!v.ok()) {
    out.error_reply = ErrorReply(nullptr, kParseError, "Parse error: " + v.status().message());
    return out;
  }
  if (v->is_array()) {
    out.error_reply =
        ErrorReply(nullptr, kInvalidRequest, "Invalid Request: JSON-RPC batches are not supported");
    return out;
  }
  if (!v->is_object()) {
    out.error_reply = ErrorReply(nullptr, kInvalidRequest, "Invalid Request: not an object");
    return out;
  }
  const json::object& o = v->get_object();
  const json::value* id = o.if_contains("id");
  const json::value reply_id = id && ValidId(*id) ? *id : json::value(nullptr);
  auto invalid = [&](std::string why) {
    out.error_reply = ErrorReply(reply_id, kInvalidRequest, "Invalid Request: " + why);
    return out;
  };
  if (GetString(o, "jsonrpc") != "2.0") return invalid("jsonrpc must be \"2.0\"");
  if (id && !ValidId(*id)) return invalid("id must be a string or an integer");
  Message m;
  if (const json::value* method = o.if_contains("method")) {
    if (!method->is_string()) return invalid("method must be a string");
    m.method = std::string(method->get_string());
    m.kind = id ? Message::Kind::kRequest : Message::Kind::kNotification;
    if (const json::value* p = o.if_contains("params"); p && !p->is_null()) {
      if (!p->is_object()) return invalid("params must be an object");
      m.params = p->get_object();
    }
  } else if (id && (o.contains("result") || o.contains("error"))) {
    m.kind = Message::Kind::kResponse;
  } else {
    return invalid("no method");
  }
  if (id) m.id = *id;
  out.message = std::move(m);
  return out;
}

Step HandleRequest(const Message& r, const json::object* tools_list) {
  Step s;
  if (r.method == "initialize") {
    s.reply = Reply(r.id, InitializeResult(r.params));
  } else if (r.method == "ping") {
    s.reply = Reply(r.id, json::object{});
  } else if (r.method == "tools/list") {
    s.reply = Reply(r.id, tools_list ? *tools_list : ToolsListResult());
  } else if (r.method == "tools/call") {
    const json::value* name = r.params.if_contains("name");
    const json::value* args = r.params.if_contains("arguments");
    if (!name || !name->is_string()) {
      s.reply = ErrorReply(r.id, kInvalidParams, "Invalid params: name must be a tool name");
    } else if (!FindTool(name->get_string())) {
      s.reply = ErrorReply(
          r.id, kInvalidParams,
          "Unknown tool: " + std::string(name->get_string()) + " (tools/list shows the tools)");
    } else if (args && !args->is_null() && !args->is_object()) {
      s.reply = ErrorReply(r.id, kInvalidParams, "Invalid params: arguments must be an object");
    } else {
      s.call = ToolCall{std::string(name->get_string()),
                        args && args->is_object() ? args->get_object() : json::object{}};
    }
  } else {
    s.reply = ErrorReply(r.id, kMethodNotFound, "Method not found: " + r.method);
  }
  return s;
}

std::optional<json::value> CancelledRequestId(const Message& m) {
  if (m.kind != Message::Kind::kNotification || m.method != "notifications/cancelled") {
    return std::nullopt;
  }
  const json::value* id = m.params.if_contains("requestId");
  if (!id || !ValidId(*id)) return std::nullopt;
  return *id;
}

}  // namespace outpost::mcp
