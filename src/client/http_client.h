// Requests to `outpost serve` for its clients (the CLI, `outpost mcp`): the endpoint, one
// request with opt-in retries, and the CLI's wording of network failures ("cannot reach …").
//
// The exchange itself is net::SendHttp (libcurl), so connections to the server are kept alive
// and reused across calls. http, or https to a server behind a TLS terminator (the runbook's
// ALB: README "The runbook on ECS"), the certificate verified against the system store.
//
// Thread-safety: Request() is reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "net/url.h"

namespace outpost::client {

// Where the API lives: http(s)://host:port[/prefix]. `prefix` has no trailing slash ("" or
// "/api").
struct Endpoint {
  std::string host;
  std::uint16_t port = 80;
  std::string prefix;
  bool tls = false;  // https

  // "http(s)://host[:port]" + prefix (the port when not the scheme's); used in messages
  // ("cannot reach …").
  std::string ToString() const;
};

// Parses "http(s)://host[:port][/prefix]" (also "[::1]:8080" and a bare "host:port", read as
// http; https's default port is 443). kInvalidArgument naming the problem: another scheme, a
// bad port, a query.
Result<Endpoint> ParseEndpoint(std::string_view url);

// http(s)://host:port + prefix + `target` ("/runs?limit=5"), for net/.
net::Url UrlFor(const Endpoint& endpoint, std::string_view target);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;  // e.g. 200, 404, 503
  std::string body;
  std::string content_type;
  std::string retry_after;     // the Retry-After header, when any
  std::string request_id;      // the X-Request-ID header, when any
  std::string mcp_session_id;  // the Mcp-Session-Id header (POST /mcp initialize), when any
};

struct RequestOptions {
  Millis connect_timeout{5'000};  // establishing the connection (at most read_timeout)
  Millis read_timeout{30'000};    // the whole exchange, connecting included

  // Retrying is opt-in and covers only what is safe to repeat: a connection that could not be
  // established (nothing was sent) and, with `retry_on_5xx`, a 5xx answer to an idempotent
  // request. Retries continue while less than `retry_for` has passed since the first attempt.
  Millis retry_for{0};
  Millis retry_backoff{1'000};
  bool retry_on_5xx = false;
  // Called before each retry with why the last attempt failed (progress display).
  std::function<void(const Status&)> on_retry;

  // Injected for tests; defaults: the real clock, and sleeping on `clock`.
  const Clock* clock = nullptr;
  std::function<void(Millis)> sleep;
};

// Sends one request and reads the whole response. `target` is the path and query below the
// endpoint's prefix ("/runs?limit=5"). An HTTP answer of any status is a success here; the error
// is for not getting one: kUnavailable "cannot reach http://h:p: Connection refused" (also
// timeouts and resets), kInternal for a response that is not HTTP.
Result<HttpResult> Request(const Endpoint& endpoint, std::string_view method,
                           std::string_view target, std::string_view body = {},
                           const Headers& headers = {}, const RequestOptions& options = {});

// Percent-encodes everything but RFC 3986 unreserved characters (for path segments and query
// values).
std::string UrlEncode(std::string_view s);

}  // namespace outpost::client
