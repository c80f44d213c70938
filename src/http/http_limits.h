// The HTTP server's limits on hostile input (README "Hostile input"): sizes of a request, how
// long each phase of reading one may take, and how many connections may be open at once. Plain
// values and arithmetic, no Beast: the server (http_server.cc), the request reader
// (http_parse.h) and their tests share them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace outpost::http {

// Sizes, each answered with an error envelope and the connection closed.
struct RequestLimits {
  std::size_t max_header_bytes = 16 << 10;      // request line + fields -> 431
  std::size_t max_header_fields = 100;          // -> 431
  std::size_t max_header_line_bytes = 8 << 10;  // one "Name: value" field -> 431
  std::size_t max_target_bytes = 8 << 10;       // the request-target -> 414
  std::size_t max_body_bytes = 1 << 20;         // the decoded body, chunked too -> 413
};

// How long reading may take. Each is a deadline, not an inactivity timer: a client that
// trickles one byte at a time gains nothing (slowloris).
struct TimeLimits {
  // From the accept (first request) or the request's first byte (later ones) to the end of
  // its header block.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  // The body gets `body_timeout` plus one second per `body_min_rate` bytes received so far: a
  // body that arrives at least at that average rate is never cut off, a slower one is.
  // body_min_rate 0: the body must be complete within body_timeout.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(10);
  std::size_t body_min_rate = 16 << 10;  // bytes per second
  // Keep-alive: a connection that has been answered waits this long for a next request.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // One write to a client (a response, or one chunk of an event stream) that does not read.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(60);
};

// The deadline of a body read that began at `start` and has received `received` bytes.
std::chrono::steady_clock::time_point BodyDeadline(std::chrono::steady_clock::time_point start,
                                                   std::uint64_t received, const TimeLimits& t);

// File descriptors the rest of the process may need besides connections (store, run
// directories, watchers, shims' pipes).
inline constexpr std::uint64_t kFdReserve = 128;
// Descriptors one connection may hold: its socket and, for an event stream, a file it follows.
inline constexpr std::uint64_t kFdsPerConnection = 2;

// The connection limit the server can keep with a soft RLIMIT_NOFILE of `fd_limit`:
// `configured`, lowered so that connections and the reserve fit (at least 1).
std::uint64_t ConnectionLimitFor(std::uint64_t configured, std::uint64_t fd_limit);

// The soft RLIMIT_NOFILE wanted for `connections`: connections * kFdsPerConnection + kFdReserve.
std::uint64_t FdsNeededFor(std::uint64_t connections);

}  // namespace outpost::http
