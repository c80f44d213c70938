// POST /mcp: MCP's streamable HTTP transport on `outpost serve` (protocol 2025-11-25/06-18).
//
// Each POST carries one JSON-RPC message. A request is answered in the response body —
// application/json, or one `event: message` of text/event-stream when the client's Accept
// has no application/json; notifications and responses get 202 without body. initialize hands
// out an Mcp-Session-Id. Sessions hold no state (every replica behind a load balancer can
// serve every call, and a restarted server keeps serving its clients): the id only scopes
// notifications/cancelled. A present MCP-Protocol-Version header must name a supported version
// (400 otherwise); an Origin header must be one of `hosts` (http/host_guard.h; 403 otherwise:
// DNS-rebinding protection, with or without keys — in open mode the router's
// SameOriginMiddleware has already refused a foreign Host). GET /mcp is 405 (no
// server-initiated stream).
//
// get_run with waitSeconds answers from a streamed body that looks at the run every 250 ms, so
// a waiting client holds no io thread; notifications/cancelled for it ends that body without
// an answer.
#pragma once

#include <memory>

#include "common/clock.h"
#include "http/host_guard.h"
#include "http/router.h"
#include "mcp/service_tools.h"

namespace outpost::mcp {

// `tools` and `clock` must outlive the router.
void RegisterMcpRoute(http::Router& router, ServiceTools& tools, const Clock& clock,
                      std::shared_ptr<const http::AllowedHosts> hosts);

}  // namespace outpost::mcp
