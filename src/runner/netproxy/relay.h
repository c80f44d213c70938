// Relay: the bidirectional byte copy behind a CONNECT tunnel, a forwarded plain-HTTP request
// and each connection of the in-sandbox forwarder.
#pragma once

#include <chrono>

namespace outpost::netproxy {

enum class RelayEnd {
  kClosed,   // both directions reached end-of-stream
  kIdle,     // nothing moved for idle_timeout
  kError,    // a peer reset or a read/write failed
  kStopped,  // stop_fd became readable
};

struct RelayOptions {
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};
  int stop_fd = -1;  // optional: readable = stop now
};

// Copies a->b and b->a until both directions reach end-of-stream, an error, idle timeout or
// stop. A half-close is passed on (EOF from `a` becomes shutdown(b, SHUT_WR)), so a client
// that half-closes after its request still gets the response. Both fds must be non-blocking
// sockets; the caller keeps ownership and closes them afterwards. Blocks the calling thread.
RelayEnd Relay(int a, int b, const RelayOptions& options);

}  // namespace outpost::netproxy
