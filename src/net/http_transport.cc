// Why coroutines for a blocking call: Beast's timeouts (tcp_stream expiry) only apply to
// asynchronous operations, so SendHttp runs one coroutine on a private io_context and waits. The
// io_context is also bounded with run_for() so that name resolution, which tcp_stream's expiry
// does not cover, cannot hang the caller either.
#include "net/http_transport.h"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>

namespace outpost::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

// A failure that is not a socket error (proxy refusal); carries its Status code.
struct TransportError : std::runtime_error {
  TransportError(Code c, const std::string& m) : std::runtime_error(m), code(c) {}
  Code code;
};

http::request<http::string_body> BuildRequest(const HttpRequest& r, bool absolute_form) {
  http::request<http::string_body> req;
  req.method_string(r.method);
  req.target(absolute_form ? r.url.ToString() : r.url.path);
  req.version(11);
  req.set(http::field::host, r.url.HostHeader());
  req.set(http::field::connection, "close");
  req.set(http::field::user_agent, "outpost/" OUTPOST_VERSION);
  for (const auto& [k, v] : r.headers) req.set(k, v);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<HttpResponse> Exchange(Stream& stream, const http::request<http::string_body>& req,
                                       std::size_t max_body, std::string& stage) {
  stage = "sending the request";
  co_await http::async_write(stream, req, use_awaitable);
  stage = "reading the response";
  beast::flat_buffer buffer;
  // Beast reads as much as the buffer's free capacity (512 bytes for a fresh one): without this
  // a 20 MiB body takes 40,000 reads.
  buffer.reserve(64 * 1024);
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  // A response to HEAD announces a Content-Length but carries no body.
  if (req.method() == http::verb::head) parser.skip(true);
  co_await http::async_read(stream, buffer, parser, use_awaitable);
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  for (const auto& field : parser.get()) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.retry_after = out.Header("Retry-After");
  co_return out;
}

asio::awaitable<void> Connect(beast::tcp_stream& stream, const Url& to, std::string& stage) {
  stage = "resolving " + to.host;
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto endpoints = co_await resolver.async_resolve(to.host, std::to_string(to.port), use_awaitable);
  stage = "connecting to " + to.Authority();
  co_await stream.async_connect(endpoints, use_awaitable);
}

asio::awaitable<void> Tunnel(beast::tcp_stream& stream, const Url& target, std::string& stage) {
  stage = "proxy CONNECT to " + target.Authority();
  http::request<http::empty_body> req{http::verb::connect, target.Authority(), 11};
  req.set(http::field::host, target.Authority());
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 2xx CONNECT reply has no body: the tunnel starts after the header
  co_await http::async_read_header(stream, buffer, parser, use_awaitable);
  unsigned status = parser.get().result_int();
  if (status / 100 != 2) {
    throw TransportError(Code::kPermissionDenied, "proxy refused CONNECT to " + target.Authority() +
                                                      ": HTTP " + std::to_string(status));
  }
}

asio::awaitable<HttpResponse> Run(const HttpRequest& r, const TransportOptions& o,
                                  ssl::context& tls_ctx, std::string& stage) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(o.timeout);  // one deadline for every step below
  const Url& first_hop = o.proxy ? *o.proxy : r.url;
  co_await Connect(stream, first_hop, stage);
  if (!r.url.tls()) {
    co_return co_await Exchange(stream, BuildRequest(r, o.proxy.has_value()), o.max_response_body,
                                stage);
  }
  if (o.proxy) co_await Tunnel(stream, r.url, stage);
  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), tls_ctx);
  stage = "TLS handshake with " + r.url.host;
  boost::system::error_code ip_ec;
  asio::ip::make_address(r.url.host, ip_ec);
  if (ip_ec && !SSL_set_tlsext_host_name(tls.native_handle(), r.url.host.c_str())) {
    throw TransportError(Code::kInternal, "cannot set TLS SNI for " + r.url.host);
  }
  tls.set_verify_mode(ssl::verify_peer);
  tls.set_verify_callback(ssl::host_name_verification(r.url.host));
  co_await tls.async_handshake(ssl::stream_base::client, use_awaitable);
  HttpResponse out = co_await Exchange(tls, BuildRequest(r, false), o.max_response_body, stage);
  // The server closes after `Connection: close`; a missing close_notify is of no consequence.
  co_return out;
}

Status ToStatus(std::exception_ptr e, const std::string& stage, const HttpRequest& r) {
  try {
    std::rethrow_exception(e);
  } catch (const TransportError& t) {
    return Status(t.code, t.what());
  } catch (const boost::system::system_error& s) {
    const auto& ec = s.code();
    if (ec == beast::error::timeout) return Unavailable("timed out " + stage);
    if (ec.category() == asio::error::get_ssl_category()) {
      return FailedPrecondition(stage + " failed: " + ec.message());
    }
    return Unavailable(stage + " (" + r.url.ToString() + "): " + ec.message());
  } catch (const std::exception& x) {
    return Unavailable(stage + ": " + x.what());
  }
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

Result<HttpResponse> SendHttp(const HttpRequest& request, const TransportOptions& options) {
  ssl::context tls_ctx(ssl::context::tls_client);  // outlives the io_context and its frames
  if (request.url.tls()) {  // loading the CA store costs more than a whole plain-http exchange
    boost::system::error_code ec;
    tls_ctx.set_default_verify_paths(ec);
    if (ec) return Internal("cannot load the system CA store: " + ec.message());
  }
  asio::io_context ioc;
  std::string stage = "starting";
  std::optional<Result<HttpResponse>> result;
  asio::co_spawn(ioc, Run(request, options, tls_ctx, stage),
                 [&](std::exception_ptr e, HttpResponse r) {
                   if (e) {
                     result.emplace(ToStatus(e, stage, request));
                   } else {
                     result.emplace(std::move(r));
                   }
                 });
  ioc.run_for(options.timeout + std::chrono::seconds(1));
  if (!result) return Unavailable("timed out " + stage + " (" + request.url.ToString() + ")");
  return std::move(*result);
}

}  // namespace outpost::net
