// UnixServer: the accept loop the runner's unix-socket servers share — the allowlist's
// EgressProxy (proxy.h) and the docker runner's run-channel relay (docker/channel_relay.h): a
// listening socket, one thread per connection, a connection limit, and a Stop that ends every
// connection (their `stop_fd` turns readable), joins their threads and removes the socket.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "runner/netproxy/socket_util.h"

namespace outpost::netproxy {

struct UnixServerOptions {
  int mode = 0600;            // of the socket file (the directory's permissions are the caller's)
  int max_connections = 256;  // concurrent connections; beyond it `busy_reply` and close
  std::string busy_reply;     // sent best effort, non-blocking, to a connection over the limit
  bool nonblocking_clients = false;  // accepted sockets O_NONBLOCK (netproxy::Relay wants it)
};

class UnixServer {
 public:
  // Serves one connection on its own thread; returns when done. `stop_fd` (an eventfd) is
  // readable once Stop() was called: a long-lived connection polls it.
  using Serve = std::function<void(UniqueFd client, int stop_fd)>;

  // Listens on `path` (replacing a stale socket there) and accepts until Stop(). Errors:
  // kInvalidArgument for an unusable path, kUnavailable when it cannot be bound, kInternal.
  static Result<std::unique_ptr<UnixServer>> Start(const std::string& path, Serve serve,
                                                   UnixServerOptions options = {});
  ~UnixServer();  // Stop()s
  UnixServer(const UnixServer&) = delete;
  UnixServer& operator=(const UnixServer&) = delete;

  // Idempotent. Waits for every connection's thread.
  void Stop();
  const std::string& path() const { return path_; }
  int active_connections() const;
  std::uint64_t accepted() const;  // connections served so far

 private:
  UnixServer(std::string path, Serve serve, UnixServerOptions options, UniqueFd listener,
             UniqueFd stop_fd);
  void AcceptLoop();
  void Spawn(UniqueFd client);
  void JoinFinished();

  const std::string path_;
  const Serve serve_;
  const UnixServerOptions options_;
  UniqueFd listener_;
  const UniqueFd stop_fd_;  // eventfd: readable once Stop() was called
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::map<std::uint64_t, std::thread> sessions_;  // guarded by mu_
  std::vector<std::uint64_t> finished_;            // guarded by mu_: done, not yet joined
  std::uint64_t next_id_ = 0;                      // guarded by mu_
  bool stopped_ = false;                           // guarded by mu_
};

}  // namespace outpost::netproxy
