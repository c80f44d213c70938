// The dashboard routes through the router pipeline, and the 304 framing through a real server.
#include "web/web_routes.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <optional>

#include "http/envelope.h"
#include "http/http_server.h"
#include "http/test_client.h"

namespace outpost::web {
namespace {

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterWebRoutes(router_, clock_); }

  http::Response Get(std::string target, std::vector<std::pair<std::string, std::string>> h = {}) {
    http::Request req;
    req.method = "GET";
    req.target = std::move(target);
    for (auto& [k, v] : h) req.headers.Add(k, v);
    return http::HandleRequest(router_, req, clock_);
  }

  SimulatedClock clock_;
  http::Router router_;
};

TEST_F(WebRoutesTest, ServesAnAssetWithTypeValidatorAndSecurityHeaders) {
  const Asset* app = FindAsset("js/app.js");
  ASSERT_NE(app, nullptr);
  http::Response r = Get("/ui/js/app.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(r.body, app->body);
  EXPECT_EQ(r.headers.Get("ETag"), app->etag);
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-cache");
  EXPECT_EQ(r.headers.Get("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.headers.Get("Content-Security-Policy"), std::string(kContentSecurityPolicy));
  EXPECT_EQ(r.headers.Get("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.headers.Get("X-Frame-Options"), "DENY");
}

TEST_F(WebRoutesTest, PolicyAllowsNoInlineScriptNoForeignOriginAndNoFraming) {
  std::string csp(kContentSecurityPolicy);
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(csp.find("object-src 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_EQ(csp.find("http"), std::string::npos);
  EXPECT_EQ(csp.find('*'), std::string::npos);
}

TEST_F(WebRoutesTest, MatchingIfNoneMatchIs304WithoutBody) {
  const Asset* css = FindAsset("app.css");
  ASSERT_NE(css, nullptr);
  for (std::string inm :
       {css->etag, "W/" + css->etag, "\"other\", " + css->etag, std::string("*")}) {
    http::Response r = Get("/ui/app.css", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.content_type, "");
    EXPECT_EQ(r.headers.Get("ETag"), css->etag);
    EXPECT_EQ(r.headers.Get("Cache-Control"), "no-cache");
  }
  http::Response stale = Get("/ui/app.css", {{"If-None-Match", "\"0123\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, css->body);
}

TEST_F(WebRoutesTest, IfNoneMatchParsing) {
  EXPECT_TRUE(IfNoneMatchMatches("\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches(" \"b\" ,\t\"a\" ", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"ab\"", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("a", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches(",,", "\"a\""));
}

TEST_F(WebRoutesTest, UnknownAssetIs404Envelope) {
  http::Response r = Get("/ui/js/nope.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"NOT_FOUND\""), std::string::npos) << r.body;
  EXPECT_EQ(Get("/ui").status, 404);  // {path...} needs at least one segment
}

TEST_F(WebRoutesTest, TraversalNeverReachesTheCatalog) {
  EXPECT_EQ(Get("/ui/../index.html").status, 400);
  EXPECT_EQ(Get("/ui/js/%2e%2e/index.html").status, 400);
  EXPECT_EQ(Get("/ui/js%2fapp.js").status, 400);
}

TEST_F(WebRoutesTest, AppShellIsIndexHtmlAndVariesByAccept) {
  http::Request req;
  req.method = "GET";
  http::Response r = AppShell(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, FindAsset("index.html")->body);
  EXPECT_EQ(r.headers.Get("Vary"), "Accept");
  EXPECT_EQ(r.headers.Get("Content-Security-Policy"), std::string(kContentSecurityPolicy));
  req.headers.Set("If-None-Match", FindAsset("index.html")->etag);
  EXPECT_EQ(AppShell(req).status, 304);
}

// GET / is the API's route (its JSON banner, api/routes.cc); web/ puts the app shell in front of
// it for browsers. A stand-in route, and a middleware registered first, which the shell passes
// through as any route's answer does.
TEST_F(WebRoutesTest, RootGivesBrowsersTheShellAndEveryoneElseTheRoute) {
  http::Router router;
  router.Use([](http::Request& req, const http::Next& next) {
    http::Response r = next(req);
    r.headers.Set("X-Outer", "ran");
    return r;
  });
  for (const char* method : {"GET", "POST"}) {
    router.Add(method, "/", http::Access::Public(),
               [](const http::Request& req, const http::PathParams&) {
                 return http::JsonResponse(200, boost::json::object{{"route", req.method}});
               });
  }
  RegisterWebRoutes(router, clock_);
  auto call = [&](std::string method, std::string target, std::optional<std::string> accept) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    if (accept) req.headers.Set("Accept", *accept);
    return http::HandleRequest(router, req, clock_);
  };
  const std::string browser = "text/html,application/xhtml+xml,*/*;q=0.8";
  for (const char* method : {"GET", "HEAD"}) {
    http::Response shell = call(method, "/", browser);
    EXPECT_EQ(shell.status, 200) << method;
    EXPECT_EQ(shell.content_type, "text/html; charset=utf-8") << method;
    EXPECT_EQ(shell.body, FindAsset("index.html")->body) << method;
    EXPECT_EQ(shell.headers.Get("Vary"), "Accept") << method;
    EXPECT_EQ(shell.headers.Get("X-Outer"), "ran") << method;
  }
  for (std::optional<std::string> accept :
       {std::optional<std::string>(), std::optional<std::string>("application/json"),
        std::optional<std::string>("*/*"),
        std::optional<std::string>("text/html, application/json")}) {
    http::Response banner = call("GET", "/", accept);
    EXPECT_EQ(banner.content_type, "application/json") << accept.value_or("(none)");
    EXPECT_EQ(banner.body, R"({"route":"GET"})") << accept.value_or("(none)");
    EXPECT_EQ(banner.headers.Get("X-Outer"), "ran");
  }
  // Only GET (and HEAD) of / itself: other methods and paths keep their own answers.
  EXPECT_EQ(call("POST", "/", browser).body, R"({"route":"POST"})");
  EXPECT_EQ(call("GET", "/?x=1", browser).content_type, "text/html; charset=utf-8");
  EXPECT_EQ(call("GET", "/runs", browser).status, 404);
}

// On the wire a 304 has no body, no Content-Length and no Content-Type; HEAD gives the length.
TEST_F(WebRoutesTest, NotModifiedOnTheWire) {
  http::HttpServerOptions opts;
  opts.port = 0;
  opts.clock = &clock_;
  http::HttpServer server(router_, opts);
  ASSERT_TRUE(server.Start().ok());
  const Asset* app = FindAsset("js/app.js");
  {
    http::testing::RawClient client(server.BoundAddress());
    auto r = client.Request("GET", "/ui/js/app.js", "If-None-Match: " + app->etag + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 304);
    EXPECT_EQ(r->body, "");
    EXPECT_FALSE(r->headers.Has("Content-Length"));
    EXPECT_FALSE(r->headers.Has("Content-Type"));
    EXPECT_EQ(r->headers.Get("ETag"), app->etag);
    // The connection stays usable after a bodiless 304.
    auto head = client.Request("HEAD", "/ui/js/app.js");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->headers.Get("Content-Length"), std::to_string(app->body.size()));
  }
  server.Stop();
}

}  // namespace
}  // namespace outpost::web
