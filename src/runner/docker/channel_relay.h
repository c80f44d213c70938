// ChannelRelay: the control plane's end of the run channel's unix socket for containers on a
// local dockerd (ARCHITECTURE.md §8). Listens on <data_dir>/channel/channel.sock (the directory,
// 0700 root, is what containers get bind-mounted at /run/outpost/channel, so that a restarted
// control plane's new socket is the one running containers see) and relays each connection to
// the control plane's own HTTP listener (netproxy::Relay): `outpost task` speaks plain HTTP to
// the channel routes through it. Only root in the container (outpost task) can open it.
//
// Thread-safe; Stop (also the destructor) ends every connection and removes the socket.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "runner/netproxy/socket_util.h"

namespace outpost::docker {

class ChannelRelay {
 public:
  // Listens on `socket_path` (a stale socket there is replaced; its directory is made 0700)
  // and relays to `host`:`port` (an IP literal or name of the control plane's listener; a
  // wildcard address is reached on loopback). kInvalidArgument for an unusable path,
  // kUnavailable when it cannot listen.
  static Result<std::unique_ptr<ChannelRelay>> Start(const std::string& socket_path,
                                                     const std::string& host, int port);
  ~ChannelRelay();
  ChannelRelay(const ChannelRelay&) = delete;
  ChannelRelay& operator=(const ChannelRelay&) = delete;

  void Stop();
  const std::string& socket_path() const { return path_; }
  // Connections relayed so far (tests).
  std::uint64_t connections() const;

 private:
  ChannelRelay(std::string path, std::string host, int port, netproxy::UniqueFd listener,
               netproxy::UniqueFd stop_fd);
  void AcceptLoop();
  void Serve(netproxy::UniqueFd client);

  const std::string path_;
  const std::string host_;
  const int port_;
  netproxy::UniqueFd listener_;
  const netproxy::UniqueFd stop_fd_;  // eventfd: readable once Stop() was called
  std::thread acceptor_;
  mutable std::mutex mu_;
  void JoinFinished();

  std::map<std::uint64_t, std::thread> sessions_;  // guarded by mu_; joined at Stop
  std::vector<std::uint64_t> finished_;            // guarded by mu_: done, not yet joined
  std::uint64_t connections_ = 0;                  // guarded by mu_ (also the next id)
  bool stopped_ = false;                           // guarded by mu_
};

}  // namespace outpost::docker
