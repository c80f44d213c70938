// Outpost's one outbound HTTP client: a blocking exchange (SendHttp) and a streaming GET
// (StreamHttp) over http or https, optionally through a proxy, on libcurl. Used by the grok
// agent's chat client, the AWS layer (aws/, store/dynamodb, artifacts/s3), the Outpost REST client
// (client/: the CLI and `outpost mcp`) and the CLI's artifact downloads. libcurl is confined to
// http_transport.cc.
//
// https: the peer certificate is verified against the system CA store (Debian's bundle, or
// SSL_CERT_FILE / SSL_CERT_DIR when set, as OpenSSL's default paths honour them) and its name
// checked against the host; SNI is the host. Through a proxy, https is tunnelled with CONNECT and
// http uses the absolute-form target. The path is sent as given (no dot-segment squashing).
//
// Connections are kept alive and reused: finished transfers return their libcurl handle (and so
// its open connections) to a process-wide pool, so sequential calls to the same origin share one
// connection. Sockets are close-on-exec: a kept-alive connection never leaks into a child.
//
// Also a local daemon's unix socket (the Docker Engine API, runner/docker/engine.h): `unix_socket`
// names the socket, and the URL's host is then only the Host header. An https peer may demand a
// client certificate (client_cert_file/client_key_file), and `ca_file` replaces the CA store for
// one endpoint with a private CA (Docker's tcp:// + TLS).
//
// Thread-safety: SendHttp and StreamHttp may be called from any number of threads at once; each
// call takes a handle of its own from the pool.
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
  // replaces the default. No Content-Type is sent unless given here.
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
  // Connect to this unix socket (an absolute path) instead of the URL's host and port; the URL's
  // host is then only the Host header. "" = TCP.
  std::string unix_socket;
  // https: verify the peer against this PEM CA bundle only (instead of the system store). "" =
  // the system store.
  std::string ca_file;
  // https: present this PEM client certificate and its PEM private key (both or neither).
  std::string client_cert_file;
  std::string client_key_file;
  // The whole exchange (resolve, connect, CONNECT, handshake, write, read) must fit.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  // Establishing the connection (resolve, connect, CONNECT, handshake) must fit; 0: only
  // `timeout` applies.
  std::chrono::milliseconds connect_timeout{0};
  // A larger response body fails the exchange (kUnavailable: "body limit exceeded").
  std::size_t max_response_body = 32 * 1024 * 1024;
};

// Where an exchange that got no response failed, for callers that word their own messages (the
// CLI's "cannot reach …"). Filled by SendHttp/StreamHttp when they return an error.
struct TransportFailure {
  enum class Step { kResolve, kConnect, kProxy, kTls, kExchange };
  Step step = Step::kExchange;
  bool timed_out = false;
  bool not_http = false;  // the peer answered, but not HTTP (or closed without an answer)
  std::string reason;     // the bare cause: "Connection refused", "certificate verify failed (…)"

  // False when the request never left (resolve, connect, proxy tunnel or TLS handshake failed):
  // safe to repeat even when not idempotent.
  bool request_sent() const { return step == Step::kExchange; }
};

// Any HTTP status is a response (the caller maps it). Errors: kUnavailable for network failures
// and timeouts (retryable), kPermissionDenied when the proxy refuses the CONNECT,
// kFailedPrecondition when TLS verification fails, kInvalidArgument for an unusable request.
Result<HttpResponse> SendHttp(const HttpRequest& request, const TransportOptions& options,
                              TransportFailure* failure = nullptr);

// The seam clients are built on; tests may substitute failing transports.
using HttpSender = std::function<Result<HttpResponse>(const HttpRequest&)>;

struct StreamOptions {
  std::optional<Url> proxy;
  // Connect to this unix socket (an absolute path) instead of the URL's host and port; the URL's
  // host is then only the Host header. "" = TCP.
  std::string unix_socket;
  // https: verify the peer against this PEM CA bundle only (instead of the system store). "" =
  // the system store.
  std::string ca_file;
  // https: present this PEM client certificate and its PEM private key (both or neither).
  std::string client_cert_file;
  std::string client_key_file;
  std::chrono::milliseconds connect_timeout{5'000};
  // No byte for this long (headers or body) fails the stream with kUnavailable (timed_out). It is
  // checked about once a second.
  std::chrono::milliseconds idle_timeout{45'000};
  std::size_t max_error_body = 1 << 20;
};

struct StreamResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error_body;  // the body of a non-2xx answer (not passed to on_body)
  bool cancelled = false;  // on_body returned false
};

// Sends `request` and hands each piece of a 2xx answer's body to `on_body` as it arrives, until
// the server ends the body or `on_body` returns false (cancelled: the connection is dropped).
// Errors as SendHttp's; an error after part of the body was delivered leaves that part delivered.
Result<StreamResponse> StreamHttp(const HttpRequest& request, const StreamOptions& options,
                                  const std::function<bool(std::string_view)>& on_body,
                                  TransportFailure* failure = nullptr);

}  // namespace outpost::net
