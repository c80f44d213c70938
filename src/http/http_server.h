// HttpServer: HTTP/1.1 over TCP (Boost.Beast, Asio C++20 coroutines), serving a Router.
//
// Each connection is one coroutine on its own strand that reads one request at a time
// (keep-alive; pipelined requests are answered in order), runs the handler synchronously on the
// io thread and writes the response.
//
// Hostile input (http/http_limits.h, http/http_parse.h): a body over its limit -> 413, a long
// request-target -> 414, a header block, field or field count over its limit -> 431, malformed
// HTTP -> 400; each is answered with an error envelope and the connection is closed. Reading is
// bounded by deadlines, not inactivity timers: the header block must be complete within
// `header_timeout` of the accept (first request) or of its first byte (later ones), so a client
// trickling bytes (slowloris) is cut off then; the body within `body_timeout` plus one second per
// `body_min_rate` bytes received; a kept-alive connection waits `idle_timeout` for its next
// request; a write (a response, one chunk of a stream) that the client does not read within
// `write_timeout` drops the connection. A timed-out read is closed without an answer.
//
// At most `max_connections` connections are served at once (lowered at Start() when
// RLIMIT_NOFILE could not hold them, with a warning). Beyond it a new connection is still
// accepted, answered 503 SERVICE_UNAVAILABLE with Retry-After and closed, so the accept loop
// never stalls and the client learns why; once connections end, new ones are served again.
//
// A response with a BodyStream (Server-Sent Events) is written as the stream produces it, one
// write at a time on the connection's strand, without Content-Length; the connection closes at
// its end. A client that stops reading stalls only its own coroutine.
//
// Graceful Stop(): the listening socket is closed at once (new connections are refused), idle
// keep-alive connections and streams are closed, and every request being handled is finished
// and answered with `Connection: close`. After `shutdown_grace` the remaining connections are
// closed by force (a handler that is running synchronously still runs to its end).
//
// Beast and Asio stay in http_server.cc (pimpl): they are slow to compile.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/router.h"

namespace outpost::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address or a name that resolves to one
  std::uint16_t port = 8080;       // 0 picks a free port (see BoundAddress)
  int threads = 2;
  // Handlers run on a pool of this many threads of their own, so that one that blocks (a slow
  // store, a push) holds up no io thread: reading, writing and the handlers of inline_paths go
  // on. 0: every handler runs on an io thread.
  int handler_threads = 0;
  // Request paths (as sent, exact, without the query) whose handlers run on the io thread even
  // with a pool: ones that never block and must answer while the pool is busy (liveness).
  std::vector<std::string> inline_paths = {"/health/live"};
  // Limits, with the defaults of http/http_limits.h (which says what each one bounds).
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::size_t max_header_fields = 100;
  std::size_t max_header_line_bytes = 8 << 10;
  std::size_t max_target_bytes = 8 << 10;
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds body_timeout = std::chrono::seconds(10);
  std::size_t body_min_rate = 16 << 10;  // bytes per second
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(60);
  std::size_t max_connections = 1024;
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
  // Raises the soft RLIMIT_NOFILE toward the hard one when max_connections needs it.
  Status Start();

  // The connection limit in force (max_connections, or lower: see above); 0 before Start().
  std::size_t MaxConnections() const;

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

}  // namespace outpost::http
