// Router: (method, path pattern) -> handler, and HandleRequest, the transport-independent
// request pipeline (target parsing, matching, error envelopes, exceptions -> 500) that the
// HTTP server calls for every request. No Beast here: tests drive it without sockets.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/access.h"
#include "http/http_types.h"

namespace outpost::http {

// Values of the {name} segments of the matched pattern, percent-decoded.
using PathParams = std::map<std::string, std::string, std::less<>>;
using Handler = std::function<Response(const Request&, const PathParams&)>;

// The route label of requests that match no route (or whose target does not parse): one label
// for every unknown path, so that a scan of random paths cannot grow the metrics without bound.
inline constexpr std::string_view kUnmatchedRoute = "unmatched";

// Sees every request HandleRequest serves, exactly once (metrics, fault injection). `route` is
// the matched pattern ("/runs/{id}", never the raw path), or kUnmatchedRoute. Hooks are called
// on the io thread that serves the request: they must be thread-safe and quick.
class RequestHook {
 public:
  virtual ~RequestHook() = default;
  // Before the handler runs: a response to answer with instead of the handler's, or nullopt.
  virtual std::optional<Response> Before(const Request& req, std::string_view route);
  // After the response is made (a hook's or the handler's), with the time since the request
  // reached HandleRequest.
  virtual void After(const Request& req, std::string_view route, const Response& res,
                     std::chrono::nanoseconds elapsed);
};
// A step around the handler of every matched route, for what applies to all of them (rate
// limits), run after authentication: req.identity is set. It answers itself, or calls `next` —
// the later middlewares and the handler — and may amend that response. The first registered
// runs outermost.
using Next = std::function<Response(Request&)>;
using Middleware = std::function<Response(Request&, const Next& next)>;

class Router {
 public:
  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    const Handler* handler = nullptr;  // kFound: owned by the router
    // kFound and kMethodNotAllowed: the pattern of the (first) route whose path matched, owned
    // by the router; kUnmatchedRoute otherwise.
    std::string_view pattern = kUnmatchedRoute;
    const Access* access = nullptr;  // kFound: the route's access rule
    PathParams params;
    std::vector<std::string> allowed;  // kMethodNotAllowed: the methods the path accepts
  };

  // Registers `handler` for `method` on `pattern`, e.g. "/runs/{id}/cancel": literal segments
  // match exactly, {name} matches one non-empty segment, and a last segment {name...} matches
  // the rest of the path, one or more non-empty segments, given joined by '/' ("/files/{key...}"
  // gives key "a/b/c" for "/files/a/b/c"). Registration happens before the server starts; Find
  // is then safe from any thread. A GET route also answers HEAD, under the same access rule.
  // `access` says who may call it (http/access.h); a route registered without one needs the
  // admin scope, so a route nobody classified is closed rather than open.
  void Add(std::string method, std::string_view pattern, Access access, Handler handler);
  void Add(std::string method, std::string_view pattern, Handler handler) {
    Add(std::move(method), pattern, Access::Scope(scope::kAdmin), std::move(handler));
  }

  // The one authentication step of the pipeline, consulted for every matched route. Null (the
  // default, for tests of routes alone): every request acts in open mode (Identity::Open()).
  // Set before the server starts; `authenticator` must outlive the router.
  void SetAuthenticator(Authenticator* authenticator) { authenticator_ = authenticator; }
  Authenticator* authenticator() const { return authenticator_; }

  // Registers a middleware, run after authentication (req.identity is set) around the handler
  // (before the server starts, like Add).
  void Use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }
  const std::vector<Middleware>& middlewares() const { return middlewares_; }

  // Matches a normalised, decoded path (see ParseTarget). Routes are tried in registration order.
  Match Find(std::string_view method, std::string_view path) const;

  // Adds a hook (see RequestHook); hooks run in the order added. Before the server starts.
  void AddHook(std::shared_ptr<RequestHook> hook) { hooks_.push_back(std::move(hook)); }
  const std::vector<std::shared_ptr<RequestHook>>& hooks() const { return hooks_; }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Access access;
    Handler handler;
  };
  static bool MatchPath(const Route& route, const std::vector<std::string>& segments,
                        PathParams* params);

  std::vector<Route> routes_;
  std::vector<std::shared_ptr<RequestHook>> hooks_;
  Authenticator* authenticator_ = nullptr;
  std::vector<Middleware> middlewares_;
};

// Splits a raw origin-form request target into its percent-decoded path and decoded query
// ('+' is a space in the query). A trailing slash is dropped ("/runs/" is "/runs"). Empty segments
// ("//") are kept, so they match no route (404). kInvalidArgument for a target that is not
// origin-form, bad percent-encoding, an encoded '/' or NUL in a segment, or "." / ".." segments.
Status ParseTarget(std::string_view target, std::string* path, QueryParams* query);

// Serves one request: parses req.target into req.path/req.query, matches it, authenticates it
// for the route's access rule (setting req.identity), then runs the middlewares and the handler.
// Unknown path -> 404 envelope, wrong method -> 405 with Allow, bad target -> 400, refused by the
// authenticator -> its 401 (with WWW-Authenticate) / 403 / 503, a handler exception -> 500. Sets
// X-Request-ID (req.request_id) on the response. The router's hooks see the request before
// authentication and the handler, and the response after it.
Response HandleRequest(const Router& router, Request& req, const Clock& clock);

}  // namespace outpost::http
