// Tool results (CallToolResult): a success carries structuredContent (matching the tool's
// outputSchema) and the same as text; a failure is isError with a text a model can act on.
//
// ToolError is the one mapping from a Status to an MCP tool error. The text names the error
// code (the REST API's: VALIDATION_ERROR, NOT_FOUND, CONFLICT, …), the message and every bad
// field ("- task: task is required"); the machine-readable form rides in
// _meta["outpost/error"] = {code, httpStatus, message, details} — not in structuredContent,
// which clients check against the outputSchema of a successful call.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/status.h"

namespace outpost::mcp {

inline constexpr std::string_view kErrorMetaKey = "outpost/error";

boost::json::object ToolSuccess(boost::json::object structured, std::string text);
boost::json::object ToolError(const Status& status);

// The httpStatus of a ToolError result; nullopt for a success (or a result from elsewhere).
std::optional<int> ToolErrorHttpStatus(const boost::json::object& result);

}  // namespace outpost::mcp
