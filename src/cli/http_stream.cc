#include "cli/http_stream.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

// Every step is an async operation on a private io_context run to completion, as in
// http_client.cc: the only way to get deadlines from Beast.
namespace outpost::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxErrorBody = 1 << 20;

std::string HostHeader(const Endpoint& ep) {
  std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
  return host + ":" + std::to_string(ep.port);
}

Status Lost(const Endpoint& ep, const beast::error_code& ec, std::string_view when) {
  if (ec == beast::error::timeout) {
    return Unavailable("no data from " + ep.ToString() + " " + std::string(when));
  }
  return Unavailable("connection to " + ep.ToString() + " lost: " + ec.message());
}

// Runs the io_context until the started operation completes.
void RunOne(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

Result<StreamResult> StreamGet(const Endpoint& ep, std::string_view target, const Headers& headers,
                               const StreamOptions& options,
                               const std::function<void(std::string_view)>& on_body) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(ep.host, std::to_string(ep.port), ec);
  if (ec) return Unavailable("cannot resolve " + ep.host + ": " + ec.message());
  beast::tcp_stream stream(ioc);
  stream.expires_after(options.connect_timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  RunOne(ioc);
  if (ec) return Unavailable("cannot reach " + ep.ToString() + ": " + ec.message());

  http::request<http::empty_body> req{http::verb::get, ep.prefix + std::string(target), 11};
  req.set(http::field::host, HostHeader(ep));
  req.set(http::field::user_agent, "outpost-cli/" OUTPOST_VERSION);
  req.set(http::field::accept, "text/event-stream");
  for (const auto& [name, value] : headers) req.set(name, value);
  stream.expires_after(options.connect_timeout);
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  RunOne(ioc);
  if (ec) return Lost(ep, ec, "while sending");

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  stream.expires_after(options.idle_timeout);
  http::async_read_header(stream, buffer, parser,
                          [&](beast::error_code e, std::size_t) { ec = e; });
  RunOne(ioc);
  if (ec == beast::error::timeout || ec == asio::error::connection_reset) {
    return Lost(ep, ec, "for the answer");
  }
  if (ec) return Internal(ep.ToString() + " did not answer HTTP: " + ec.message());

  StreamResult result;
  result.status = static_cast<int>(parser.get().result_int());
  const bool ok = result.status >= 200 && result.status < 300;
  char buf[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    stream.expires_after(options.idle_timeout);
    http::async_read_some(stream, buffer, parser,
                          [&](beast::error_code e, std::size_t) { ec = e; });
    RunOne(ioc);
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = sizeof buf - parser.get().body().size;
    if (n > 0) {
      std::string_view piece(buf, n);
      if (ok) {
        on_body(piece);
      } else if (result.error_body.size() < kMaxErrorBody) {
        result.error_body.append(piece);
      }
    }
    if (ec == http::error::end_of_stream) break;  // closed by the server: the body's end
    if (ec) return Lost(ep, ec, "for " + std::to_string(options.idle_timeout.count()) + " ms");
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return result;
}

}  // namespace outpost::cli
