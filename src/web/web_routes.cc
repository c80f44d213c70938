#include "web/web_routes.h"

#include "common/strings.h"
#include "http/envelope.h"
#include "http/media_type.h"

namespace outpost::web {
namespace {

constexpr std::string_view kShell = "index.html";

void SetCommonHeaders(http::Response& r, const Asset& asset) {
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

http::Response ServeAsset(const Asset& asset, const http::Request& req) {
  http::Response r;
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

http::Response AppShell(const http::Request& req) {
  const Asset* shell = FindAsset(kShell);
  http::Response r;
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

void RegisterWebRoutes(http::Router& router, const Clock& clock) {
  router.Use([](http::Request& req, const http::Next& next) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (get && req.path == "/" && http::PrefersHtml(req.headers.Get("Accept"))) {
      return AppShell(req);
    }
    return next(req);
  });
  router.Add("GET", "/ui/{path...}", http::Access::Public(),
             [&clock](const http::Request& req, const http::PathParams& p) {
               if (const Asset* asset = FindAsset(p.at("path"))) return ServeAsset(*asset, req);
               return http::Error(NotFound("no such dashboard file: /ui/" + p.at("path")),
                                  {req.request_id, clock.Now()});
             });
}

}  // namespace outpost::web
