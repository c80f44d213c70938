#include "aws/http.h"

namespace outpost::aws {

net::HttpSender MakeHttpSender(const EnvMap& env, HttpOptions options) {
  return [env, options](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    auto proxy = net::ProxyFor(request.url, env);
    if (!proxy.ok()) return proxy.status();
    net::TransportOptions transport;
    transport.proxy = *proxy;
    transport.timeout = options.timeout;
    transport.max_response_body = options.max_response_body;
    return net::SendHttp(request, transport);
  };
}

std::string RenderQuery(const Params& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += UriEncode(k) + "=" + UriEncode(v);
  }
  return out;
}

Result<net::HttpRequest> BuildSignedRequest(const net::Url& origin, SignableRequest request,
                                            const Credentials& credentials,
                                            const SigningOptions& options, WallTime now) {
  request.headers.insert(request.headers.begin(), {"Host", origin.HostHeader()});
  auto signature = SignHeaders(request, credentials, options, now);
  if (!signature.ok()) return signature.status();
  net::HttpRequest out;
  out.method = request.method;
  out.url = origin;
  out.url.path = request.path;
  if (!request.query.empty()) out.url.path += "?" + RenderQuery(request.query);
  out.headers = std::move(request.headers);
  for (auto& h : signature->added_headers) out.headers.push_back(std::move(h));
  out.body = std::move(request.body);
  return out;
}

}  // namespace outpost::aws
