#include "web/web_routes.h"

#include "api/envelope.h"
#include "common/strings.h"

namespace outpost::web {
namespace {

constexpr std::string_view kShell = "index.html";

void SetCommonHeaders(api::Response& r, const Asset& asset) {
  r.headers.Set("ETag", asset.etag);
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Content-Security-Policy", std::string(kContentSecurityPolicy));
  r.headers.Set("Referrer-Policy", "no-referrer");
  r.headers.Set("X-Frame-Options", "DENY");
}

std::string_view Opaque(std::string_view tag) {  // W/"x" and "x" compare equal (weak comparison)
  return tag.starts_with("W/") ? tag.substr(2) : tag;
}

}  // namespace

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view tag = Trim(header.substr(0, comma));
    if (tag == "*" || (!tag.empty() && Opaque(tag) == Opaque(etag))) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

api::Response ServeAsset(const Asset& asset, const api::Request& req) {
  api::Response r;
  SetCommonHeaders(r, asset);
  if (auto inm = req.headers.Get("If-None-Match"); inm && IfNoneMatchMatches(*inm, asset.etag)) {
    r.status = 304;  // no body, and so no Content-Type either
    r.content_type.clear();
    return r;
  }
  r.content_type = asset.content_type;
  r.body = std::string(asset.body);
  return r;
}

api::Response AppShell(const api::Request& req) {
  const Asset* shell = FindAsset(kShell);
  api::Response r;
  if (shell) {
    r = ServeAsset(*shell, req);
  } else {  // a build without assets is a broken build: say so rather than serve nothing
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "the dashboard was not compiled into this binary\n";
  }
  r.headers.Set("Vary", "Accept");
  return r;
}

void RegisterWebRoutes(api::Router& router, const Clock& clock) {
  router.Add("GET", "/ui/{path...}", api::Access::Public(),
             [&clock](const api::Request& req, const api::PathParams& p) {
               if (const Asset* asset = FindAsset(p.at("path"))) return ServeAsset(*asset, req);
               return api::Error(NotFound("no such dashboard file: /ui/" + p.at("path")),
                                 {req.request_id, clock.Now()});
             });
}

}  // namespace outpost::web
