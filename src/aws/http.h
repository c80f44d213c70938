// HTTP for AWS APIs: the real transport (net/, with proxies from the environment) behind the
// net::HttpSender seam, and the step from a SignableRequest to a signed wire request.
//
// Every AWS client (S3 here, DynamoDB later) does: build a SignableRequest -> BuildSignedRequest
// with the clock's time -> send through its HttpSender inside a Retrier -> map the response.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "common/status.h"
#include "net/http_transport.h"
#include "net/url.h"

namespace outpost::aws {

struct HttpOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};  // one whole exchange
  std::size_t max_response_body = std::size_t{1} << 30;          // 1 GiB (GetObject in memory)
};

// Sends over http or https (certificates verified against the system store), through
// HTTPS_PROXY/HTTP_PROXY unless NO_PROXY excludes the host. Thread-safe.
net::HttpSender MakeHttpSender(const EnvMap& env, HttpOptions options = {});

// The request as it goes on the wire to `origin` (scheme, host, port; its path is ignored):
// Host set, SigV4 header signature added, query rendered after the path.
Result<net::HttpRequest> BuildSignedRequest(const net::Url& origin, SignableRequest request,
                                            const Credentials& credentials,
                                            const SigningOptions& options, WallTime now);

// "a=1&b=x%20y": names and values encoded as SigV4 encodes them, in the given order.
std::string RenderQuery(const Params& query);

}  // namespace outpost::aws
