#include "client/http_stream.h"

#include "net/http_transport.h"

namespace outpost::client {
namespace {

constexpr std::size_t kMaxErrorBody = 1 << 20;

Status Lost(const Endpoint& ep, const net::TransportFailure& f, Millis idle) {
  using Step = net::TransportFailure::Step;
  if (f.step == Step::kResolve) return Unavailable("cannot resolve " + ep.host + ": " + f.reason);
  if (f.step != Step::kExchange)
    return Unavailable("cannot reach " + ep.ToString() + ": " + f.reason);
  if (f.not_http) return Internal(ep.ToString() + " did not answer HTTP: " + f.reason);
  if (f.timed_out) {
    return Unavailable("no data from " + ep.ToString() + " for " + std::to_string(idle.count()) +
                       " ms");
  }
  return Unavailable("connection to " + ep.ToString() + " lost: " + f.reason);
}

}  // namespace

Result<StreamResult> StreamGet(const Endpoint& ep, std::string_view target, const Headers& headers,
                               const StreamOptions& options,
                               const std::function<void(std::string_view)>& on_body) {
  net::HttpRequest req;
  req.method = "GET";
  req.url = UrlFor(ep, target);
  req.headers = {{"User-Agent", "outpost-cli/" OUTPOST_VERSION}, {"Accept", "text/event-stream"}};
  req.headers.insert(req.headers.end(), headers.begin(), headers.end());
  net::StreamOptions o;
  o.connect_timeout = options.connect_timeout;
  o.idle_timeout = options.idle_timeout;
  o.max_error_body = kMaxErrorBody;
  net::TransportFailure failure;
  auto r = net::StreamHttp(
      req, o,
      [&](std::string_view piece) {
        on_body(piece);
        return true;
      },
      &failure);
  if (!r.ok()) {
    if (failure.reason.empty()) return r.status();
    return Lost(ep, failure, options.idle_timeout);
  }
  return StreamResult{r->status, std::move(r->error_body)};
}

}  // namespace outpost::client
