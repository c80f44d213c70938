#include "cli/http_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <thread>

namespace outpost::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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

Status Unreachable(const Endpoint& ep, const beast::error_code& ec, Millis timeout) {
  std::string why =
      ec == beast::error::timeout ? "no connection within " + Seconds(timeout) : ec.message();
  return Unavailable("cannot reach " + ep.ToString() + ": " + why);
}

Status LostExchange(const Endpoint& ep, const beast::error_code& ec, Millis timeout) {
  if (ec == beast::error::timeout) {
    return Unavailable("no answer from " + ep.ToString() + " within " + Seconds(timeout));
  }
  return Unavailable("connection to " + ep.ToString() + " failed: " + ec.message());
}

std::string HostHeader(const Endpoint& ep) {
  std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
  return host + ":" + std::to_string(ep.port);
}

http::request<http::string_body> BuildRequest(const Endpoint& ep, http::verb verb,
                                              std::string_view target, std::string_view body,
                                              const Headers& headers) {
  http::request<http::string_body> req{verb, ep.prefix + std::string(target), 11};
  req.set(http::field::host, HostHeader(ep));
  req.set(http::field::user_agent, "outpost-cli/" OUTPOST_VERSION);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.prepare_payload();
  return req;
}

HttpResult ToResult(const http::response<http::string_body>& res) {
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  out.content_type = std::string(res[http::field::content_type]);
  out.retry_after = std::string(res[http::field::retry_after]);
  out.request_id = std::string(res["X-Request-ID"]);
  out.mcp_session_id = std::string(res["Mcp-Session-Id"]);
  return out;
}

// Async operations on a private io_context, run to completion: the only way to get connect and
// read deadlines from Beast (its sync calls ignore tcp_stream expiry).
Attempt RequestOnce(const Endpoint& ep, http::verb verb, std::string_view target,
                    std::string_view body, const Headers& headers, const RequestOptions& opts) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(ep.host, std::to_string(ep.port), ec);
  if (ec) return {Unavailable("cannot resolve " + ep.host + ": " + ec.message()), false};

  beast::tcp_stream stream(ioc);
  stream.expires_after(opts.connect_timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  ioc.run();
  if (ec) return {Unreachable(ep, ec, opts.connect_timeout), false};

  auto req = BuildRequest(ep, verb, target, body, headers);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  stream.expires_after(opts.read_timeout);
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
    ec = e;
    if (e) return;
    http::async_read(stream, buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
  });
  ioc.restart();
  ioc.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == http::error::bad_version || ec == http::error::bad_method) {
    return {Internal(ep.ToString() + " did not answer HTTP: " + ec.message()), true};
  }
  if (ec) return {LostExchange(ep, ec, opts.read_timeout), true};
  return {ToResult(parser.get()), true};
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

std::string Endpoint::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + (port == 80 ? "" : ":" + std::to_string(port)) + prefix;
}

Result<Endpoint> ParseEndpoint(std::string_view url) {
  auto bad = [&](std::string why) {
    return InvalidArgument("invalid endpoint '" + std::string(url) + "': " + why);
  };
  std::string_view rest = url;
  if (auto pos = rest.find("://"); pos != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, pos);
    if (scheme == "https") {
      return bad("https is not supported yet; use http:// (put TLS in front of the server)");
    }
    if (scheme != "http") return bad("the scheme must be http://");
    rest.remove_prefix(pos + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());
  if (authority.find('@') != std::string_view::npos) return bad("no user info");

  Endpoint ep;
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
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown)
    return InvalidArgument("unknown HTTP method " + std::string(method));
  const Clock& clock = options.clock ? *options.clock : RealClock::Instance();
  auto sleep = options.sleep ? options.sleep : [](Millis d) { std::this_thread::sleep_for(d); };
  const MonoTime start = clock.Mono();
  for (;;) {
    Attempt attempt = RequestOnce(endpoint, verb, target, body, headers, options);
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

}  // namespace outpost::cli
