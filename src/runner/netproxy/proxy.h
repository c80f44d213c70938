// EgressProxy: the only way out of a sandbox with network "allowlist".
//
// Runs in the per-run shim, outside the sandbox, listening on a unix socket that is bound into
// the sandbox (where the forwarder exposes it as 127.0.0.1:3128). Speaks the HTTP/1.1 proxy
// protocol: `CONNECT host:port` opens a tunnel (for HTTPS), and an absolute-form request
// (`GET http://host:port/path`) is forwarded in origin-form. Every destination is checked
// against the Allowlist before any DNS lookup or connection; a refusal is answered 403, reported
// through on_blocked, and the connection is closed. Names are resolved here, outside the
// sandbox, and the addresses they resolve to are checked again (see upstream.h).
//
// Replies: 400 malformed or oversized head, 403 not allowed, 502 resolution or connection
// failure, 503 over the connection limit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "runner/netproxy/allowlist.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/netproxy/socket_util.h"
#include "runner/netproxy/unix_server.h"

namespace outpost::netproxy {

struct EgressProxyOptions {
  Clock* clock = nullptr;  // stamps BlockedAttempt::at; RealClock when null
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{30'000};  // to receive the whole request head
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};  // tunnel with no bytes either way
  int max_connections = 256;                              // concurrent client connections
  bool allow_resolved_loopback = false;                   // see UpstreamOptions
};

using BlockedFn = std::function<void(const BlockedAttempt&)>;

class EgressProxy {
 public:
  using Options = EgressProxyOptions;

  // Listens on `unix_socket_path` (replacing a stale socket there; mode 0666 so the sandbox uid
  // can connect — the directory's permissions are the caller's business) and serves on its own
  // threads until Stop(). `on_blocked` (may be empty) is called from connection threads,
  // possibly concurrently, and must be thread-safe and quick (BlockedLog::Append is).
  // Errors: kInvalidArgument for an unusable path, kUnavailable when it cannot be bound.
  static Result<std::unique_ptr<EgressProxy>> Start(const std::string& unix_socket_path,
                                                    Allowlist allowlist, BlockedFn on_blocked,
                                                    Options options = {});

  // Stops accepting, ends every connection (tunnels included), joins all threads and removes
  // the socket file. Idempotent; also run by the destructor. A connection thread blocked in
  // DNS resolution delays it by at most the resolver's timeout.
  void Stop();
  ~EgressProxy();
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  const std::string& socket_path() const { return server_->path(); }
  // Client connections being served now. Thread-safe.
  int active_connections() const;

 private:
  EgressProxy(Allowlist allowlist, BlockedFn on_blocked, Options options);

  const Allowlist allowlist_;
  const BlockedFn on_blocked_;
  const Options options_;
  std::unique_ptr<UnixServer> server_;  // set by Start; its connections use the members above
};

}  // namespace outpost::netproxy
