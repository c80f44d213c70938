// Best-effort wake-up from a shim to the server: one unix datagram carrying the run id, sent
// when the agent starts and when exit.json is written. The run directory stays the source of
// truth; a lost datagram only delays the server until its next scan.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost {

// Sends run_id to the datagram socket at socket_path. Never blocks, never fails: a missing
// server or a full queue is ignored. Thread-safe. Does nothing when socket_path is empty.
void Notify(const std::string& socket_path, std::string_view run_id);

// The server's end: a bound, non-blocking unix datagram socket. Move-only; owns the fd and
// unlinks the socket file when destroyed. Not thread-safe: one reader.
class NotifySocket {
 public:
  // Removes a stale socket file at `path` first. kInvalidArgument when the path is too long
  // for a unix socket, kInternal when the socket cannot be created or bound.
  static Result<NotifySocket> Bind(const std::string& path);

  NotifySocket(NotifySocket&& other) noexcept;
  NotifySocket& operator=(NotifySocket&& other) noexcept;
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket();

  // For poll/epoll/asio: readable when datagrams are queued.
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Every queued datagram (run ids), without blocking; empty when none.
  std::vector<std::string> Drain();

 private:
  NotifySocket(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Close();

  int fd_ = -1;
  std::string path_;
};

}  // namespace outpost
