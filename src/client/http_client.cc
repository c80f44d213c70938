#include "client/http_client.h"

#include <algorithm>
#include <charconv>

#include "net/http_transport.h"

namespace outpost::client {
namespace {

constexpr std::size_t kMaxBodyBytes = 64 * 1024 * 1024;

// The outcome of one attempt, and whether the request may have reached the server (which decides
// whether a non-idempotent request may be repeated).
struct Attempt {
  Result<HttpResult> result;
  bool sent = false;
};

std::string Seconds(Millis d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// The CLI's words for an exchange that got no answer (net/ names its own stages).
Status Described(const Endpoint& ep, const net::TransportFailure& f, const RequestOptions& o) {
  using Step = net::TransportFailure::Step;
  switch (f.step) {
    case Step::kResolve:
      return Unavailable("cannot resolve " + ep.host + ": " + f.reason);
    case Step::kConnect:
    case Step::kProxy:
    case Step::kTls:
      return Unavailable(
          "cannot reach " + ep.ToString() + ": " +
          (f.timed_out ? "no connection within " + Seconds(o.connect_timeout) : f.reason));
    case Step::kExchange:
      break;
  }
  if (f.not_http) return Internal(ep.ToString() + " did not answer HTTP: " + f.reason);
  if (f.timed_out) {
    return Unavailable("no answer from " + ep.ToString() + " within " + Seconds(o.read_timeout));
  }
  return Unavailable("connection to " + ep.ToString() + " failed: " + f.reason);
}

bool IsMethod(std::string_view m) {
  return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

Attempt RequestOnce(const Endpoint& ep, std::string_view method, std::string_view target,
                    std::string_view body, const Headers& headers, const RequestOptions& opts) {
  net::HttpRequest req;
  req.method = std::string(method);
  req.url = UrlFor(ep, target);
  req.headers = {{"User-Agent", "outpost-cli/" OUTPOST_VERSION}, {"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.headers.insert(req.headers.end(), headers.begin(), headers.end());
  req.body = std::string(body);
  net::TransportOptions transport;
  transport.timeout = opts.read_timeout;
  transport.connect_timeout = std::min(opts.connect_timeout, opts.read_timeout);
  transport.max_response_body = kMaxBodyBytes;
  net::TransportFailure failure;
  auto r = net::SendHttp(req, transport, &failure);
  if (!r.ok()) {
    if (failure.reason.empty()) return {r.status(), false};  // not a network failure
    return {Described(ep, failure, opts), failure.request_sent()};
  }
  HttpResult out;
  out.status = r->status;
  out.body = std::move(r->body);
  out.content_type = r->Header("Content-Type");
  out.retry_after = r->retry_after;
  out.request_id = r->Header("X-Request-ID");
  out.mcp_session_id = r->Header("Mcp-Session-Id");
  return {std::move(out), true};
}

bool ShouldRetry(const Attempt& a, const RequestOptions& opts) {
  if (!a.result.ok()) {
    return a.result.status().code() == Code::kUnavailable && (!a.sent || opts.retry_on_5xx);
  }
  return opts.retry_on_5xx && a.result->status >= 500;
}

Status RetryReason(const Endpoint& ep, const Attempt& a) {
  if (!a.result.ok()) return a.result.status();
  return Unavailable(ep.ToString() + " answered HTTP " + std::to_string(a.result->status));
}

}  // namespace

net::Url UrlFor(const Endpoint& ep, std::string_view target) {
  net::Url url;
  url.scheme = ep.tls ? "https" : "http";
  url.host = ep.host;
  url.port = ep.port;
  url.path = ep.prefix + std::string(target);
  return url;
}

std::string Endpoint::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::uint16_t default_port = tls ? 443 : 80;
  return (tls ? "https://" : "http://") + h +
         (port == default_port ? "" : ":" + std::to_string(port)) + prefix;
}

Result<Endpoint> ParseEndpoint(std::string_view url) {
  auto bad = [&](std::string why) {
    return InvalidArgument("invalid endpoint '" + std::string(url) + "': " + why);
  };
  std::string_view rest = url;
  bool tls = false;
  if (auto pos = rest.find("://"); pos != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, pos);
    if (scheme != "http" && scheme != "https") return bad("the scheme must be http:// or https://");
    tls = scheme == "https";
    rest.remove_prefix(pos + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());
  if (authority.find('@') != std::string_view::npos) return bad("no user info");

  Endpoint ep;
  ep.tls = tls;
  ep.port = tls ? 443 : 80;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [ipv6] host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad("junk after ]");
    if (!after.empty()) port = after.substr(1);
  } else {
    if (std::count(authority.begin(), authority.end(), ':') > 1) {
      return bad("write IPv6 addresses in brackets: http://[::1]:8080");
    }
    auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return bad("missing host");
  if (authority.ends_with(':')) return bad("empty port");
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, err] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (err != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("port must be 1-65535");
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  ep.prefix = std::string(path);
  return ep;
}

Result<HttpResult> Request(const Endpoint& endpoint, std::string_view method,
                           std::string_view target, std::string_view body, const Headers& headers,
                           const RequestOptions& options) {
  if (!IsMethod(method)) return InvalidArgument("unknown HTTP method " + std::string(method));
  const Clock& clock = options.clock ? *options.clock : RealClock::Instance();
  auto sleep = options.sleep ? options.sleep : SleepOn(clock);
  const MonoTime start = clock.Mono();
  for (;;) {
    Attempt attempt = RequestOnce(endpoint, method, target, body, headers, options);
    if (!ShouldRetry(attempt, options) ||
        clock.Mono() - start + options.retry_backoff > options.retry_for) {
      return std::move(attempt.result);
    }
    if (options.on_retry) options.on_retry(RetryReason(endpoint, attempt));
    sleep(options.retry_backoff);
  }
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace outpost::client
