#include "api/artifact_routes.h"

#include "api/request_context.h"
#include "http/envelope.h"

namespace outpost::api {
using http::Access;
using http::Error;
using http::Meta;
using http::PathParams;
using http::Request;
using http::Router;
using http::Success;
namespace scope = http::scope;

void RegisterArtifactRoutes(Router& router, RunArtifacts& artifacts, Clock& clock) {
  auto handler = [&artifacts, &clock](const Request& req, const PathParams& params) {
    const Meta meta{req.request_id, clock.Now()};
    Result<int> expires = RunArtifacts::ParseExpiresIn(req.Query("expiresIn"));
    if (!expires.ok()) return Error(expires.status(), meta);
    auto list = artifacts.List(params.at("id"), *expires, ContextOf(req));
    if (!list.ok()) return Error(list.status(), meta);
    return Success(200, std::move(*list), meta);
  };
  router.Add("GET", "/runs/{id}/artifacts", Access::Scope(scope::kStatus), handler);
  router.Add("GET", "/artifacts/{id}", Access::Scope(scope::kStatus), handler);
}

}  // namespace outpost::api
