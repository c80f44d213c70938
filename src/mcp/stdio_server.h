// StdioServer: MCP over stdio (`outpost mcp`): newline-delimited JSON-RPC on in/out, logs on
// stderr only.
//
// initialize, ping and tools/list are answered here (protocol.h, the shared catalog); each
// tools/call runs on its own thread through a ToolRunner (RemoteTools in `outpost mcp`), so a
// get_run that waits does not hold up other requests. notifications/cancelled for a call in
// flight is passed to the runner and that call's reply is dropped (the spec's "SHOULD NOT
// respond"). At end of input, calls in flight are cancelled and waited for; Run then returns.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <iosfwd>

#include "mcp/protocol.h"

namespace outpost::mcp {

struct ToolRunner {
  // The JSON-RPC reply to tools/call `id`; called from a worker thread.
  std::function<boost::json::object(const boost::json::value& id, const ToolCall& call)> call;
  // The client cancelled call `id`; may be empty.
  std::function<void(const boost::json::value& id)> cancel;
};

// Serves until `in` ends. Returns 0.
int RunStdioServer(std::istream& in, std::ostream& out, ToolRunner runner);

}  // namespace outpost::mcp
