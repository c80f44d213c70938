// The RequestContext a handler passes to RunService: built from what the request pipeline
// established (Request::identity, see http/access.h), the one place handlers of every protocol
// over HTTP (REST routes, artifact routes, POST /mcp) take tenant and scopes from.
#pragma once

#include "core/run_service.h"
#include "http/http_types.h"

namespace outpost::api {

inline RequestContext ContextOf(const http::Request& req) {
  RequestContext ctx;
  ctx.request_id = req.request_id;
  ctx.client_address = req.client_address;
  ctx.tenant = req.identity.tenant;
  ctx.key_id = req.identity.key_id;
  ctx.scopes = req.identity.scopes;
  return ctx;
}

}  // namespace outpost::api
