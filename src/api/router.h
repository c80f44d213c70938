// Router: (method, path pattern) -> handler, and HandleRequest, the transport-independent
// request pipeline (target parsing, matching, error envelopes, exceptions -> 500) that the
// HTTP server calls for every request. No Beast here: tests drive it without sockets.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::api {

// Values of the {name} segments of the matched pattern, percent-decoded.
using PathParams = std::map<std::string, std::string, std::less<>>;
using Handler = std::function<Response(const Request&, const PathParams&)>;

// A step around the handler of every matched route, for what applies to all of them
// (authentication, rate limits). It answers itself, or calls `next` — the later middlewares and
// the handler — and may amend that response. It may fill in the request's identity (tenant,
// key_id) for those after it. The first registered runs outermost.
using Next = std::function<Response(Request&)>;
using Middleware = std::function<Response(Request&, const Next& next)>;

class Router {
 public:
  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    const Handler* handler = nullptr;  // kFound: owned by the router
    PathParams params;
    std::vector<std::string> allowed;  // kMethodNotAllowed: the methods the path accepts
  };

  // Registers `handler` for `method` on `pattern`, e.g. "/runs/{id}/cancel": literal segments
  // match exactly, {name} matches one non-empty segment, and a last segment {name...} matches
  // the rest of the path, one or more non-empty segments, given joined by '/' ("/files/{key...}"
  // gives key "a/b/c" for "/files/a/b/c"). Registration happens before the server starts; Find
  // is then safe from any thread. A GET route also answers HEAD.
  void Add(std::string method, std::string_view pattern, Handler handler);
  // Registers a middleware (before the server starts, like Add).
  void Use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }
  const std::vector<Middleware>& middlewares() const { return middlewares_; }

  // Matches a normalised, decoded path (see ParseTarget). Routes are tried in registration order.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Handler handler;
  };
  static bool MatchPath(const Route& route, const std::vector<std::string>& segments,
                        PathParams* params);

  std::vector<Route> routes_;
  std::vector<Middleware> middlewares_;
};

// Splits a raw origin-form request target into its percent-decoded path and decoded query
// ('+' is a space in the query). A trailing slash is dropped ("/runs/" is "/runs"). Empty segments
// ("//") are kept, so they match no route (404). kInvalidArgument for a target that is not
// origin-form, bad percent-encoding, an encoded '/' or NUL in a segment, or "." / ".." segments.
Status ParseTarget(std::string_view target, std::string* path, QueryParams* query);

// Serves one request: parses req.target into req.path/req.query, matches it and runs the
// middlewares and the handler. Unknown path -> 404 envelope, wrong method -> 405 with Allow, bad
// target -> 400, a handler exception -> 500. Sets X-Request-ID (req.request_id) on the response.
Response HandleRequest(const Router& router, Request& req, const Clock& clock);

}  // namespace outpost::api
