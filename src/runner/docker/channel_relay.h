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
#include <memory>
#include <string>

#include "common/status.h"
#include "runner/netproxy/socket_util.h"
#include "runner/netproxy/unix_server.h"

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
  const std::string& socket_path() const { return server_->path(); }
  // Connections relayed so far (tests).
  std::uint64_t connections() const { return server_->accepted(); }

 private:
  ChannelRelay(std::string host, int port) : host_(std::move(host)), port_(port) {}
  void Serve(netproxy::UniqueFd client, int stop_fd) const;

  const std::string host_;
  const int port_;
  std::unique_ptr<netproxy::UnixServer> server_;  // set by Start
};

}  // namespace outpost::docker
