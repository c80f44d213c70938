// MCP's JSON-RPC layer, shared by both transports (http_route.h, stdio_server.h): parsing one
// message, replies and protocol errors, version negotiation, and the requests every Outpost MCP
// server answers alike (initialize, ping, tools/list). tools/call is left to the caller, which
// runs it locally (ServiceTools) or forwards it (RemoteTools).
//
// Protocol errors are JSON-RPC errors: -32700 malformed JSON, -32600 not a valid request,
// -32601 unknown method, -32602 invalid params (tools/call without a name, an unknown tool).
// A tool that runs and fails — bad arguments included — is a tool result with isError
// (tool_result.h), so the model can read what to fix.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::mcp {

inline constexpr std::string_view kLatestProtocolVersion = "2025-11-25";

enum RpcError : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
};

// 2025-11-25, 2025-06-18 and 2025-03-26 (what most deployed clients still speak; its clients
// ignore the newer fields Outpost sends, such as outputSchema and structuredContent).
bool IsSupportedVersion(std::string_view version);
// "2025-11-25, 2025-06-18, 2025-03-26": for error messages.
std::string SupportedVersionsText();
// The client's version when supported, else the latest.
std::string NegotiateVersion(std::string_view requested);

struct Message {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kRequest;
  boost::json::value id;  // requests and responses
  std::string method;     // requests and notifications
  boost::json::object params;
};

// One JSON-RPC 2.0 message. nullopt with `error_reply` set: what to answer (-32700/-32600; id
// null unless the message's id could be read).
struct Parsed {
  std::optional<Message> message;
  boost::json::object error_reply;
};
Parsed ParseMessage(std::string_view text);

boost::json::object Reply(const boost::json::value& id, boost::json::value result);
boost::json::object ErrorReply(const boost::json::value& id, int code, std::string_view message,
                               boost::json::value data = nullptr);

struct ToolCall {
  std::string name;
  boost::json::object arguments;
};

// What to do with a request: answer `reply` (initialize, ping, tools/list, errors), or run
// `call` (a tools/call naming a known tool).
struct Step {
  std::optional<boost::json::object> reply;
  std::optional<ToolCall> call;
};
// `tools_list`: the tools/list result to answer with (a server's own, ServiceTools::ToolsList);
// null: the compiled catalog (ToolsListResult()).
Step HandleRequest(const Message& request, const boost::json::object* tools_list = nullptr);

// The `requestId` of a notifications/cancelled (nullopt for any other message).
std::optional<boost::json::value> CancelledRequestId(const Message& m);

}  // namespace outpost::mcp
