// One blocking HTTP/1.1 exchange over http or https, optionally through a proxy. Shared by the
// grok agent's chat client and the AWS layer (aws/).
//
// https: OpenSSL through Boost.Beast, SNI set to the target host, the peer certificate verified
// against the system CA store (OpenSSL's default paths, so SSL_CERT_FILE/SSL_CERT_DIR apply) and
// its name checked against the host. Through a proxy, https is tunnelled with CONNECT and http
// uses the absolute-form target. One connection per request (`Connection: close`): callers make
// a handful of calls per operation. Boost.Beast is confined to http_transport.cc.
//
// Thread-safety: SendHttp is reentrant; each call owns its io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/url.h"

namespace outpost::net {

struct HttpRequest {
  std::string method = "POST";  // any token: GET, PUT, HEAD, DELETE, POST, ...
  Url url;
  // Sent as given (a later header of the same name replaces an earlier one); a User-Agent here
  // replaces the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;         // empty for HEAD
  std::string retry_after;  // the Retry-After header, if any
  // Every response header, names as received, in order.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

struct TransportOptions {
  std::optional<Url> proxy;
  // The whole exchange (resolve, connect, CONNECT, handshake, write, read) must fit.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  // A larger response body fails the exchange (kUnavailable: "body limit exceeded").
  std::size_t max_response_body = 32 * 1024 * 1024;
};

// Any HTTP status is a response (the caller maps it). Errors: kUnavailable for network failures
// and timeouts (retryable), kPermissionDenied when the proxy refuses the CONNECT,
// kFailedPrecondition when TLS verification fails, kInvalidArgument for an unusable request.
Result<HttpResponse> SendHttp(const HttpRequest& request, const TransportOptions& options);

// The seam clients are built on; tests may substitute failing transports.
using HttpSender = std::function<Result<HttpResponse>(const HttpRequest&)>;

}  // namespace outpost::net
