#include "http/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "http/envelope.h"

namespace outpost::http {
namespace {

namespace json = boost::json;
using Kind = Router::Match::Kind;

Handler Named(std::string name) {
  return [name](const Request&, const PathParams&) {
    Response r;
    r.body = name;
    return r;
  };
}

Router TestRouter() {
  Router router;
  router.Add("GET", "/", Named("root"));
  router.Add("GET", "/runs", Named("list"));
  router.Add("GET", "/runs/{id}", Named("get"));
  router.Add("POST", "/runs/{id}/cancel", Named("cancel"));
  router.Add("DELETE", "/dispatch/{id}", Named("delete"));
  router.Add("GET", "/dispatch/{id}", Named("dispatch-get"));
  return router;
}

std::string Call(const Router::Match& m) { return (*m.handler)(Request{}, m.params).body; }

Request MakeRequest(std::string method, std::string target, std::string request_id = "") {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.request_id = std::move(request_id);
  return req;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router = TestRouter();
  Router::Match m = router.Find("GET", "/runs/01ABC");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(Call(m), "get");
  EXPECT_EQ(m.params.at("id"), "01ABC");

  m = router.Find("POST", "/runs/xyz/cancel");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(Call(m), "cancel");
  EXPECT_EQ(m.params.at("id"), "xyz");

  EXPECT_EQ(Call(router.Find("GET", "/")), "root");
  EXPECT_EQ(Call(router.Find("GET", "/runs")), "list");
}

TEST(Router, UnknownPathIsNotFound) {
  Router router = TestRouter();
  EXPECT_EQ(router.Find("GET", "/nope").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/runs/a/b").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/runs//cancel").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("POST", "/runs//cancel").kind, Kind::kNotFound);  // empty {id}
}

TEST(Router, WrongMethodListsAllowedMethods) {
  Router router = TestRouter();
  Router::Match m = router.Find("PUT", "/dispatch/abc");
  ASSERT_EQ(m.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET", "HEAD"}));
  EXPECT_EQ(m.handler, nullptr);
}

TEST(Router, HeadIsServedByTheGetRoute) {
  Router router = TestRouter();
  Router::Match m = router.Find("HEAD", "/runs/abc");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(Call(m), "get");
}

TEST(Router, TailParameterTakesTheRestOfThePath) {
  Router router;
  router.Add("GET", "/files/{key...}", Named("file"));
  router.Add("GET", "/runs/{id}/files/{path...}", Named("run-file"));
  Router::Match m = router.Find("GET", "/files/dispatches/01ABC/output.log");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(Call(m), "file");
  EXPECT_EQ(m.params.at("key"), "dispatches/01ABC/output.log");

  m = router.Find("GET", "/files/one");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params.at("key"), "one");

  m = router.Find("HEAD", "/runs/r1/files/a/b");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.params.at("id"), "r1");
  EXPECT_EQ(m.params.at("path"), "a/b");
}

TEST(Router, TailParameterNeedsOneOrMoreNonEmptySegments) {
  Router router;
  router.Add("GET", "/files/{key...}", Named("file"));
  EXPECT_EQ(router.Find("GET", "/files").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/files/a//b").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/files//a").kind, Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/other/a").kind, Kind::kNotFound);
  Router::Match m = router.Find("DELETE", "/files/a/b");
  EXPECT_EQ(m.kind, Kind::kMethodNotAllowed);
}

TEST(Router, TailParameterMustBeLast) {
  Router router;
  EXPECT_THROW(router.Add("GET", "/files/{key...}/meta", Named("x")), std::invalid_argument);
}

TEST(Router, TraversalNeverReachesATailRoute) {
  Router router;
  router.Add("GET", "/files/{key...}", Named("file"));
  for (const char* target : {"/files/../etc/passwd", "/files/a/%2e%2e/b", "/files/%2E%2E/x",
                             "/files/a%2Fb", "/files/./a"}) {
    Request req = MakeRequest("GET", target, "rid");
    Response r = HandleRequest(router, req, RealClock::Instance());
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body, "file") << target;
  }
}

TEST(ParseTarget, DecodesPathAndQuery) {
  std::string path;
  QueryParams query;
  ASSERT_TRUE(ParseTarget("/runs/a%20b?tag=k%3Av&tag=x:y&q=a+b&flag", &path, &query).ok());
  EXPECT_EQ(path, "/runs/a b");
  ASSERT_EQ(query.count("tag"), 2u);
  auto [first, last] = query.equal_range("tag");
  EXPECT_EQ(first->second, "k:v");
  EXPECT_EQ(std::next(first)->second, "x:y");
  EXPECT_EQ(query.find("q")->second, "a b");
  EXPECT_EQ(query.find("flag")->second, "");
}

TEST(ParseTarget, DropsTrailingSlashButKeepsRoot) {
  std::string path;
  QueryParams query;
  ASSERT_TRUE(ParseTarget("/runs/", &path, &query).ok());
  EXPECT_EQ(path, "/runs");
  ASSERT_TRUE(ParseTarget("/", &path, &query).ok());
  EXPECT_EQ(path, "/");
  ASSERT_TRUE(ParseTarget("/?x=1", &path, &query).ok());
  EXPECT_EQ(path, "/");
  EXPECT_EQ(query.find("x")->second, "1");
}

TEST(ParseTarget, RejectsDotSegmentsEncodedSlashesAndBadEscapes) {
  std::string path;
  QueryParams query;
  for (const char* bad :
       {"/runs/../etc", "/runs/./x", "/runs/%2e%2e/x", "/runs/a%2Fb", "/runs/a%2fb", "/runs/%zz",
        "/runs/a%00", "runs", "*", "http://host/runs"}) {
    Status s = ParseTarget(bad, &path, &query);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
  }
}

TEST(HandleRequest, UnknownPathIs404Envelope) {
  Router router = TestRouter();
  SimulatedClock clock;
  Request req = MakeRequest("GET", "/missing", "rid-1");
  Response r = HandleRequest(router, req, clock);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.Get("X-Request-ID"), "rid-1");
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("error").at("code"), "NOT_FOUND");
  EXPECT_EQ(body.at("meta").at("requestId"), "rid-1");
}

TEST(HandleRequest, EmptySegmentIs404) {
  Router router = TestRouter();
  SimulatedClock clock;
  Request req = MakeRequest("GET", "//runs");
  EXPECT_EQ(HandleRequest(router, req, clock).status, 404);
}

TEST(HandleRequest, WrongMethodIs405WithAllowHeader) {
  Router router = TestRouter();
  SimulatedClock clock;
  Request req = MakeRequest("POST", "/runs/abc");
  Response r = HandleRequest(router, req, clock);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("Allow"), "GET, HEAD");
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("error").at("code"), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(body.at("error").at("details").at("allowed"), json::parse(R"(["GET","HEAD"])"));
}

TEST(HandleRequest, BadTargetIs400ValidationError) {
  Router router = TestRouter();
  SimulatedClock clock;
  Request req = MakeRequest("GET", "/runs/..%2F..%2Fetc");
  Response r = HandleRequest(router, req, clock);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("error").at("code"), "VALIDATION_ERROR");
}

TEST(HandleRequest, HandlerSeesDecodedPathAndQuery) {
  Router router;
  router.Add("GET", "/runs/{id}", [](const Request& req, const PathParams& params) {
    Response r;
    r.body = params.at("id") + "|" + req.path + "|" + req.Query("limit").value_or("-");
    return r;
  });
  SimulatedClock clock;
  Request req = MakeRequest("GET", "/runs/a%41?limit=5");
  EXPECT_EQ(HandleRequest(router, req, clock).body, "aA|/runs/aA|5");
}

TEST(HandleRequest, HandlerExceptionIs500WithoutItsMessage) {
  Router router;
  router.Add("GET", "/boom", [](const Request&, const PathParams&) -> Response {
    throw std::runtime_error("secret detail");
  });
  SimulatedClock clock;
  Request req = MakeRequest("GET", "/boom", "r");
  Response r = HandleRequest(router, req, clock);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("error").at("code"), "INTERNAL_ERROR");
  EXPECT_EQ(body.at("error").at("message"), "An unexpected error occurred");
}

TEST(HandleRequest, MiddlewaresRunInOrderAroundMatchedRoutesOnly) {
  Router router;
  router.Add("GET", "/who", [](const Request& req, const PathParams&) {
    Response r;
    r.body = req.identity.tenant + "/" + req.identity.key_id;
    return r;
  });
  std::vector<std::string> trace;
  router.Use([&](Request& req, const Next& next) {
    trace.push_back("outer");
    req.identity.tenant = "acme";  // a middleware sees (and may amend) the identity
    Response r = next(req);
    r.headers.Set("X-Outer", "1");
    return r;
  });
  router.Use([&](Request& req, const Next& next) {
    trace.push_back("inner:" + req.identity.tenant);
    if (req.Query("deny")) return ErrorWithCode(429, "RATE_LIMIT_EXCEEDED", "no", {"r", {}});
    req.identity.key_id = "k1";
    return next(req);
  });
  SimulatedClock clock;
  Request req = MakeRequest("GET", "/who");
  Response r = HandleRequest(router, req, clock);
  EXPECT_EQ(r.body, "acme/k1");
  EXPECT_EQ(r.headers.Get("X-Outer"), "1");
  EXPECT_EQ(trace, (std::vector<std::string>{"outer", "inner:acme"}));
  Request denied = MakeRequest("GET", "/who?deny=1");
  r = HandleRequest(router, denied, clock);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("X-Outer"), "1");
  trace.clear();
  Request missing = MakeRequest("GET", "/nope");
  EXPECT_EQ(HandleRequest(router, missing, clock).status, 404);
  EXPECT_TRUE(trace.empty()) << "no middleware for an unknown route";
}

}  // namespace
}  // namespace outpost::http
