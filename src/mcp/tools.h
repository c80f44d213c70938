// The catalog of Outpost's MCP tools: names, descriptions, input and output schemas — the one
// place both servers (`POST /mcp` of `outpost serve` and the stdio `outpost mcp`) take them from.
//
// The names are the ones the original's users already call (dispatch, get_run, list_runs,
// cancel, fleet_status, get_logs, get_artifacts), health (the runbook's
// `mcp call outpost:health`), promote and get_diff. dispatch's inputSchema describes the REST
// body exactly (core/dispatch_request.h is the validator; dispatch_schema_test.cc keeps the two
// in agreement); the other tools' arguments are validated with their own inputSchema
// (json_schema.h), so schema and validation are one thing.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::mcp {

inline constexpr int kMaxWaitSeconds = 300;
inline constexpr int kDefaultOutputLines = 50;
inline constexpr int kMaxOutputLines = 1000;

struct ToolDef {
  std::string name;
  std::string title;
  std::string description;  // written for a model choosing and calling the tool
  boost::json::object input_schema;
  boost::json::object output_schema;
  // The API key scope a call needs (the REST route's: ARCHITECTURE §3); "" for none
  // (fleet_status, health: their REST routes need no key either). Checked by ServiceTools::Call
  // against the caller's RequestContext.
  std::string scope;
  bool read_only = true;
  bool idempotent = true;
  bool destructive = false;
};

// Every tool, in the order tools/list shows them.
const std::vector<ToolDef>& Tools();
// nullptr for an unknown name.
const ToolDef* FindTool(std::string_view name);

// An agent a server runs (enabled), with its models, the default first.
struct ServerAgent {
  std::string name;
  std::vector<std::string> models;
};

// The tools/list result: {"tools":[{name, title, description, inputSchema, outputSchema,
// annotations}]}. With `agents` (a server's enabled agents), dispatch's inputSchema names them:
// `agent` takes only those names (or "all"), `modelId` lists each one's models.
boost::json::object ToolsListResult(const std::vector<ServerAgent>* agents = nullptr);

// The JSON Schema of a dispatch body (POST /dispatch and the dispatch tool).
boost::json::object DispatchInputSchema();

}  // namespace outpost::mcp
