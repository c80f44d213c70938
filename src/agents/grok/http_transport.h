// One blocking HTTP/1.1 exchange over http or https, optionally through a proxy.
//
// https: OpenSSL through Boost.Beast, SNI set to the target host, the peer certificate verified
// against the system CA store (OpenSSL's default paths, so SSL_CERT_FILE/SSL_CERT_DIR apply) and
// its name checked against the host. Through a proxy, https is tunnelled with CONNECT and http
// uses the absolute-form target. One connection per request (`Connection: close`): the agent
// makes a handful of calls per run. Boost.Beast is confined to http_transport.cc.
//
// Thread-safety: SendHttp is reentrant; each call owns its io_context.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agents/grok/url.h"
#include "common/status.h"

namespace outpost::agents::grok {

struct HttpRequest {
  std::string method = "POST";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

struct TransportOptions {
  std::optional<Url> proxy;
  // The whole exchange (resolve, connect, CONNECT, handshake, write, read) must fit.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
};

// Any HTTP status is a response (the caller maps it). Errors: kUnavailable for network failures
// and timeouts (retryable), kPermissionDenied when the proxy refuses the CONNECT,
// kFailedPrecondition when TLS verification fails, kInvalidArgument for an unusable request.
Result<HttpResponse> SendHttp(const HttpRequest& request, const TransportOptions& options);

// The seam the chat client is built on; tests may substitute failing transports.
using HttpSender = std::function<Result<HttpResponse>(const HttpRequest&)>;

}  // namespace outpost::agents::grok
