// Thin POSIX socket helpers for the egress proxy and the in-sandbox forwarder. errno never
// leaves this file: failures become a Status (kUnavailable for what may work on retry,
// kInvalidArgument for bad input, kInternal otherwise).
//
// Deadlines are steady_clock times: poll(2) waits in the kernel's time, so the injected Clock
// cannot drive them. Every wait also watches an optional `stop_fd` (readable = give up), so a
// stopping proxy does not wait out a connection's timeouts. All functions are thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::netproxy {

using Deadline = std::chrono::steady_clock::time_point;

inline Deadline DeadlineIn(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A listening unix stream socket at `path` (a stale socket file there is replaced), chmod'ed to
// `mode`. Close-on-exec and non-blocking. kInvalidArgument when the path is too long.
Result<UniqueFd> ListenUnix(const std::string& path, int mode, int backlog = 128);

// A listening TCP socket on an IP literal (port 0 = any free port). Close-on-exec, blocking.
Result<UniqueFd> ListenTcp(const std::string& ip, int port, int backlog = 128);

// The local port of a bound socket.
Result<int> LocalPort(int fd);

// A blocking connection to a unix stream socket. kUnavailable when nobody listens.
Result<UniqueFd> ConnectUnix(const std::string& path);

Status SetNonBlocking(int fd);

enum class Wait { kReady, kTimeout, kStopped };
// Polls `fd` for `events` until ready, `deadline`, or stop_fd (if >= 0) becomes readable.
// Error and hang-up conditions count as ready: the next read or write reports them.
Wait WaitFor(int fd, short events, Deadline deadline, int stop_fd = -1);

// Writes all of `data` to a (possibly non-blocking) socket without raising SIGPIPE.
// kUnavailable on a peer error, timeout or stop.
Status SendAll(int fd, std::string_view data, Deadline deadline, int stop_fd = -1);

}  // namespace outpost::netproxy
