#include "runner/docker/channel_relay.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "common/log.h"
#include "runner/netproxy/relay.h"

namespace outpost::docker {
namespace {

using netproxy::UniqueFd;

// A blocking TCP connection to host:port (a name or an IP literal), then made non-blocking.
Result<UniqueFd> ConnectTcp(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return Unavailable("resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      ::freeaddrinfo(res);
      if (Status st = netproxy::SetNonBlocking(fd.get()); !st.ok()) return st;
      return fd;
    }
    why = std::strerror(errno);
  }
  ::freeaddrinfo(res);
  return Unavailable("connect " + host + ":" + service + ": " + why);
}

}  // namespace

Result<std::unique_ptr<ChannelRelay>> ChannelRelay::Start(const std::string& socket_path,
                                                          const std::string& host_in, int port) {
  const std::string dir = std::filesystem::path(socket_path).parent_path().string();
  if (dir.empty()) return InvalidArgument("channel socket path has no directory: " + socket_path);
  OUTPOST_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  ::chmod(dir.c_str(), 0700);
  std::string host = host_in;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<ChannelRelay> relay(new ChannelRelay(host, port));
  netproxy::UnixServerOptions options;
  options.mode = 0600;  // only root (outpost task in the container, not the agent) may connect
  options.nonblocking_clients = true;  // netproxy::Relay wants both ends non-blocking
  auto server = netproxy::UnixServer::Start(
      socket_path,
      [r = relay.get()](UniqueFd client, int stop_fd) { r->Serve(std::move(client), stop_fd); },
      std::move(options));
  if (!server.ok()) return server.status();
  relay->server_ = std::move(server).value();
  return relay;
}

ChannelRelay::~ChannelRelay() { Stop(); }

void ChannelRelay::Stop() {
  if (server_) server_->Stop();
}

void ChannelRelay::Serve(UniqueFd client, int stop_fd) const {
  auto upstream = ConnectTcp(host_, port_);
  if (!upstream.ok()) {
    // The reporter retries: the control plane is restarting, or not listening yet.
    spdlog::debug("run channel relay: {}", upstream.status().ToString());
    return;
  }
  netproxy::RelayOptions options;
  options.stop_fd = stop_fd;
  netproxy::Relay(client.get(), upstream->get(), options);
}

}  // namespace outpost::docker
