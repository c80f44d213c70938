#include "api/artifact_routes.h"

#include "api/envelope.h"

namespace outpost::api {

void RegisterArtifactRoutes(Router& router, RunArtifacts& artifacts, Clock& clock) {
  auto handler = [&artifacts, &clock](const Request& req, const PathParams& params) {
    const Meta meta{req.request_id, clock.Now()};
    Result<int> expires = RunArtifacts::ParseExpiresIn(req.Query("expiresIn"));
    if (!expires.ok()) return Error(expires.status(), meta);
    RequestContext ctx;
    ctx.request_id = req.request_id;
    ctx.client_address = req.client_address;
    ctx.tenant = req.tenant;
    ctx.key_id = req.key_id;
    auto list = artifacts.List(params.at("id"), *expires, ctx);
    if (!list.ok()) return Error(list.status(), meta);
    return Success(200, std::move(*list), meta);
  };
  router.Add("GET", "/runs/{id}/artifacts", handler);
  router.Add("GET", "/artifacts/{id}", handler);
}

}  // namespace outpost::api
