// HttpServer: HTTP/1.1 over TCP (Boost.Beast, Asio C++20 coroutines), serving a Router.
//
// Each connection is one coroutine on its own strand that reads one request at a time
// (keep-alive; pipelined requests are answered in order), runs the handler synchronously on the
// io thread and writes the response. Limits: body -> 413, header block -> 431, malformed HTTP ->
// 400; each of these is answered with an error envelope and the connection is closed. A
// connection idle (or a request slower) than `idle_timeout` is closed.
//
// A response with a BodyStream (Server-Sent Events) is written as the stream produces it, one
// write at a time on the connection's strand, without Content-Length; the connection closes at
// its end. A client that stops reading stalls only its own coroutine and is dropped once a write
// has waited `idle_timeout`.
//
// Graceful Stop(): the listening socket is closed at once (new connections are refused), idle
// keep-alive connections and streams are closed, and every request being handled is finished
// and answered with `Connection: close`. After `shutdown_grace` the remaining connections are closed by force
// (a handler that is running synchronously still runs to its end).
//
// Beast and Asio stay in http_server.cc (pimpl): they are slow to compile.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "common/clock.h"
#include "common/status.h"

namespace outpost::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address or a name that resolves to one
  std::uint16_t port = 8080;       // 0 picks a free port (see BoundAddress)
  int threads = 2;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);
  const Clock* clock = nullptr;  // request ids and envelope timestamps; nullptr: the real clock
};

class HttpServer {
 public:
  // `router` must outlive the server and not change once Start() was called.
  explicit HttpServer(const Router& router, HttpServerOptions options = {});
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads. kUnavailable when the address cannot be bound,
  // kInvalidArgument when the host does not resolve, kFailedPrecondition when called twice.
  Status Start();

  // "HOST:PORT" actually bound ("[::1]:PORT" for IPv6); empty before Start().
  std::string BoundAddress() const;

  // Graceful shutdown (see above); returns when every io thread has ended. Idempotent and
  // thread-safe, but must not be called from a handler (it waits for the io threads).
  void Stop();

  // Blocks until the server has stopped (returns at once if it never started).
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::api
