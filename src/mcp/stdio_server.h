// StdioServer: MCP over stdio (`outpost mcp`): newline-delimited JSON-RPC on in/out, logs on
// stderr only.
//
// initialize, ping and tools/list are answered here (protocol.h, the shared catalog); each
// tools/call runs on its own thread through a ToolRunner (RemoteTools in `outpost mcp`), so a
// get_run that waits does not hold up other requests. notifications/cancelled for a call in
// flight is passed to the runner and that call's reply is dropped (the spec's "SHOULD NOT
// respond"). At end of input, the calls in flight are answered (their replies written), then
// Run returns: a client that closes stdin after sending still reads its answers.
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
  // The client sent initialize (called after its reply is written); may be empty.
  std::function<void()> initialized = {};
  // The tools/list result to answer with (nullopt, or empty: the compiled catalog).
  std::function<std::optional<boost::json::object>()> tools_list = {};
};

// Serves until `in` ends. Returns 0.
int RunStdioServer(std::istream& in, std::ostream& out, ToolRunner runner);

}  // namespace outpost::mcp
