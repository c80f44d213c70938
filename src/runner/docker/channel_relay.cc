#include "runner/docker/channel_relay.h"

#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
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
  // Only root (outpost task in the container, not the agent) may connect.
  auto listener = netproxy::ListenUnix(socket_path, 0600);
  if (!listener.ok()) return listener.status();
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) return Internal("eventfd failed");
  std::string host = host_in;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<ChannelRelay> relay(
      new ChannelRelay(socket_path, host, port, std::move(listener).value(), std::move(stop)));
  relay->acceptor_ = std::thread([r = relay.get()] { r->AcceptLoop(); });
  return relay;
}

ChannelRelay::ChannelRelay(std::string path, std::string host, int port, UniqueFd listener,
                           UniqueFd stop_fd)
    : path_(std::move(path)),
      host_(std::move(host)),
      port_(port),
      listener_(std::move(listener)),
      stop_fd_(std::move(stop_fd)) {}

ChannelRelay::~ChannelRelay() { Stop(); }

void ChannelRelay::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  std::uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::map<std::uint64_t, std::thread> sessions;
  {
    std::lock_guard lock(mu_);
    sessions.swap(sessions_);
    finished_.clear();
  }
  for (auto& [id, t] : sessions) t.join();
  listener_.reset();
  ::unlink(path_.c_str());
}

std::uint64_t ChannelRelay::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

void ChannelRelay::JoinFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    for (std::uint64_t id : finished_) {
      auto it = sessions_.find(id);
      if (it == sessions_.end()) continue;
      done.push_back(std::move(it->second));
      sessions_.erase(it);
    }
    finished_.clear();
  }
  for (std::thread& t : done) t.join();
}

void ChannelRelay::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    JoinFinished();
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client) {
      if (errno == EMFILE || errno == ENFILE) ::poll(&fds[1], 1, 100);
      continue;
    }
    std::lock_guard lock(mu_);
    const std::uint64_t id = connections_++;
    sessions_[id] = std::thread([this, id, fd = std::move(client)]() mutable {
      Serve(std::move(fd));
      std::lock_guard l(mu_);
      finished_.push_back(id);
    });
  }
}

void ChannelRelay::Serve(UniqueFd client) {
  auto upstream = ConnectTcp(host_, port_);
  if (!upstream.ok()) {
    // The reporter retries: the control plane is restarting, or not listening yet.
    spdlog::debug("run channel relay: {}", upstream.status().ToString());
    return;
  }
  netproxy::RelayOptions options;
  options.stop_fd = stop_fd_.get();
  netproxy::Relay(client.get(), upstream->get(), options);
}

}  // namespace outpost::docker
