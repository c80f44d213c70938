// `outpost mcp`: the MCP server over stdio for MCP clients (Claude Code, editors), a client of a
// running `outpost serve` (remote_tools.h says why it forwards to POST /mcp).
//
// Where the server is, first found wins:
//   --endpoint URL, --config FILE, OUTPOST_API_URL, OUTPOST_ENDPOINT, OUTPOST_MCP_CONFIG (FILE).
// The config file has the shape of the original's secret:
//   {"endpoint": "http://127.0.0.1:8080", "provider": "http", "version": "2.0.0"}
// (optionally "apiKey"). The API key: --api-key, OUTPOST_API_KEY, the file's apiKey; sent as
// `Authorization: Bearer`. With no endpoint the server still starts (tools/list works), says on
// stderr how to point it at a server, and every tools/call answers that as a tool error.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace CLI {
class App;
}

namespace outpost::mcp {

struct McpFlags {
  std::string endpoint, config, api_key;
};

struct McpTarget {
  std::optional<std::string> endpoint;  // nullopt: none configured
  std::string api_key;
  std::string source;  // where the endpoint came from, for the startup note
};

// Resolves the endpoint and key from flags, environment and config file. kInvalidArgument for
// an unreadable or malformed config file (naming the file and the field).
Result<McpTarget> ResolveMcpTarget(const McpFlags& flags,
                                   const std::map<std::string, std::string>& env);

// What to do when no endpoint is configured (stderr at start, and the tool error text).
std::string UnconfiguredHelp();

// Adds the `mcp` subcommand; its exit code goes to *exit_code.
void AddMcpCommand(CLI::App& app, int* exit_code);

}  // namespace outpost::mcp
