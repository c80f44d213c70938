#include "http/router.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

#include "http/envelope.h"

namespace outpost::http {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/") return out;
  std::size_t start = 1;  // skip the leading '/'
  while (true) {
    std::size_t slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "{name...}": the rest of the path.
bool IsTail(std::string_view segment) {
  return IsParam(segment) && segment.size() > 5 && segment.ends_with("...}");
}

std::string ParamName(std::string_view segment) {
  return std::string(segment.substr(1, segment.size() - (IsTail(segment) ? 5 : 2)));
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Access access, Handler handler) {
  std::vector<std::string> segments = SplitPath(pattern);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (IsTail(segments[i])) {
      throw std::invalid_argument("a {name...} segment must be last: " + std::string(pattern));
    }
  }
  routes_.push_back({std::move(method), std::string(pattern), std::move(segments),
                     std::move(access), std::move(handler)});
}

bool Router::MatchPath(const Route& route, const std::vector<std::string>& segments,
                       PathParams* params) {
  const bool tail = !route.segments.empty() && IsTail(route.segments.back());
  if (tail ? segments.size() < route.segments.size() : route.segments.size() != segments.size()) {
    return false;
  }
  PathParams found;
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (IsTail(want)) {
      std::string rest;
      for (std::size_t j = i; j < segments.size(); ++j) {
        if (segments[j].empty()) return false;
        rest += (j == i ? "" : "/") + segments[j];
      }
      found[ParamName(want)] = std::move(rest);
    } else if (IsParam(want)) {
      if (segments[i].empty()) return false;
      found[ParamName(want)] = segments[i];
    } else if (want != segments[i]) {
      return false;
    }
  }
  *params = std::move(found);
  return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  const std::vector<std::string> segments = SplitPath(path);
  Match m;
  for (const Route& route : routes_) {
    PathParams params;
    if (!MatchPath(route, segments, &params)) continue;
    if (route.method == method || (method == "HEAD" && route.method == "GET")) {
      m.kind = Match::Kind::kFound;
      m.handler = &route.handler;
      m.pattern = route.pattern;
      m.access = &route.access;
      m.params = std::move(params);
      m.allowed.clear();
      return m;
    }
    if (m.kind != Match::Kind::kMethodNotAllowed) m.pattern = route.pattern;
    m.kind = Match::Kind::kMethodNotAllowed;
    m.allowed.push_back(route.method);
    if (route.method == "GET") m.allowed.push_back("HEAD");
  }
  return m;
}

Status ParseTarget(std::string_view target, std::string* path, QueryParams* query) {
  if (target.empty() || target.front() != '/') {
    return InvalidArgument("request target must be an absolute path");
  }
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return InvalidArgument("malformed request target: " + url.error().message());

  std::string out;
  for (auto segment : url->encoded_segments()) {
    std::string_view raw(segment.data(), segment.size());
    // An encoded '/' would make "/runs/a%2Fb" reach a handler as one id containing a slash.
    if (raw.find("%2F") != raw.npos || raw.find("%2f") != raw.npos) {
      return InvalidArgument("request path must not contain an encoded '/'");
    }
    std::string decoded = segment.decode();
    if (decoded.find('\0') != std::string::npos) {
      return InvalidArgument("request path must not contain NUL");
    }
    if (decoded == "." || decoded == "..") {
      return InvalidArgument("request path must not contain '.' or '..' segments");
    }
    out += '/';
    out += decoded;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty()) out = "/";
  *path = std::move(out);

  query->clear();
  for (auto param : url->params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
    query->emplace(param.key, param.value);
  }
  return Status::Ok();
}

namespace {

// The authentication step: nullopt to go on to the handler (req.identity set), else the answer.
std::optional<Response> Authenticate(const Router& router, const Access& access, Request& req,
                                     const Meta& meta) {
  Authenticator* auth = router.authenticator();
  if (auth == nullptr) {
    req.identity = Identity::Open();
    return std::nullopt;
  }
  Identity identity;
  Status st = auth->Authenticate(req, access, &identity);
  if (st.ok()) {
    req.identity = std::move(identity);
    return std::nullopt;
  }
  Response r = Error(st, meta);
  if (st.code() == Code::kUnauthenticated)
    r.headers.Set("WWW-Authenticate", "Bearer realm=\"outpost\"");
  return r;
}

Response RunChain(const std::vector<Middleware>& chain, std::size_t i, Request& req,
                  const Handler& handler, const PathParams& params) {
  if (i == chain.size()) return handler(req, params);
  return chain[i](req, [&](Request& r) { return RunChain(chain, i + 1, r, handler, params); });
}

Response RouteRequest(const Router& router, const Router::Match& m, Request& req,
                      const Meta& meta) {
  switch (m.kind) {
    case Router::Match::Kind::kNotFound:
      return ErrorWithCode(404, "NOT_FOUND", "Endpoint not found: " + req.method + " " + req.path,
                           meta);
    case Router::Match::Kind::kMethodNotAllowed: {
      std::string allow;
      boost::json::array allowed;
      for (const std::string& method : m.allowed) {
        allow += (allow.empty() ? "" : ", ") + method;
        allowed.emplace_back(method);
      }
      Response r = ErrorWithCode(405, kMethodNotAllowed,
                                 "Method " + req.method + " not allowed on " + req.path, meta,
                                 {{"allowed", std::move(allowed)}});
      r.headers.Set("Allow", allow);
      return r;
    }
    case Router::Match::Kind::kFound:
      break;
  }
  try {
    if (auto refused = Authenticate(router, *m.access, req, meta)) return std::move(*refused);
    return RunChain(router.middlewares(), 0, req, *m.handler, m.params);
  } catch (const std::exception& e) {
    return Error(Internal(std::string("handler threw: ") + e.what()), meta);
  } catch (...) {
    return Error(Internal("handler threw a non-standard exception"), meta);
  }
}

}  // namespace

std::optional<Response> RequestHook::Before(const Request&, std::string_view) {
  return std::nullopt;
}

void RequestHook::After(const Request&, std::string_view, const Response&,
                        std::chrono::nanoseconds) {}

Response HandleRequest(const Router& router, Request& req, const Clock& clock) {
  const MonoTime start = clock.Mono();
  Response r;
  std::string_view route = kUnmatchedRoute;
  Status parsed = ParseTarget(req.target, &req.path, &req.query);
  if (!parsed.ok()) req.path = req.target.substr(0, req.target.find('?'));
  Router::Match m;
  if (parsed.ok()) {
    m = router.Find(req.method, req.path);
    route = m.pattern;
  }
  std::optional<Response> hooked;
  for (const auto& hook : router.hooks()) {
    if ((hooked = hook->Before(req, route))) break;
  }
  if (hooked) {
    r = std::move(*hooked);
  } else if (!parsed.ok()) {
    r = Error(parsed, Meta{req.request_id, clock.Now()});
  } else {
    r = RouteRequest(router, m, req, Meta{req.request_id, clock.Now()});
  }
  r.headers.Set("X-Request-ID", req.request_id);
  const auto elapsed = clock.Mono() - start;
  for (const auto& hook : router.hooks()) hook->After(req, route, r, elapsed);
  return r;
}

}  // namespace outpost::http
