// The RequestContext a handler passes to RunService: built from what the request pipeline
// established (Request::identity, see api/access.h), the one place handlers of every protocol
// over HTTP (REST routes, artifact routes, POST /mcp) take tenant and scopes from.
#pragma once

#include "api/http_types.h"
#include "core/run_service.h"

namespace outpost::api {

inline RequestContext ContextOf(const Request& req) {
  RequestContext ctx;
  ctx.request_id = req.request_id;
  ctx.client_address = req.client_address;
  ctx.tenant = req.identity.tenant;
  ctx.key_id = req.identity.key_id;
  ctx.scopes = req.identity.scopes;
  return ctx;
}

}  // namespace outpost::api
