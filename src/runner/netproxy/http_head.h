// The HTTP/1.1 proxy request head: parsing, classification (CONNECT tunnel vs absolute-form
// plain HTTP) and the rewritten head forwarded to the origin. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runner/netproxy/host_port.h"

namespace outpost::netproxy {

struct RequestHead {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;
};

// Offset just past the blank line ending the head ("\r\n\r\n", or "\n\n" from lax clients);
// npos when `buf` does not hold a whole head yet.
std::size_t FindHeadEnd(std::string_view buf);

// Parses a head (request line + header lines, up to and including the blank line).
// kInvalidArgument when malformed.
Result<RequestHead> ParseRequestHead(std::string_view head);

// What the proxy should do with a request.
struct ProxyRequest {
  bool tunnel = false;          // CONNECT: reply 200 and relay raw bytes
  HostPort dest;                // where to connect
  std::string forward_head;     // plain HTTP only: the head to send to the origin
  std::size_t body_length = 0;  // plain HTTP only: the request body's bytes (Content-Length)
};

// CONNECT host:port -> a tunnel. "METHOD http://host[:port]/path HTTP/1.x" -> plain HTTP with
// the target rewritten to origin-form, Host set to the authority, proxy headers dropped and
// "Connection: close" (one request per upstream connection: the upstream is fixed once chosen,
// so a later request on it must not pretend to reach another host: the session parses each
// later request and forwards only those to the same host, see session.cc).
// kInvalidArgument for anything else (origin-form, https:// absolute-form, bad authority, a
// plain-HTTP body framed by Transfer-Encoding or by a bad or repeated Content-Length).
Result<ProxyRequest> ClassifyRequest(const RequestHead& head);

// A complete response with "Connection: close" and a text/plain body.
std::string SimpleResponse(int status, std::string_view reason, std::string_view body);

}  // namespace outpost::netproxy
