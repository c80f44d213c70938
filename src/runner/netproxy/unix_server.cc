#include "runner/netproxy/unix_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace outpost::netproxy {

Result<std::unique_ptr<UnixServer>> UnixServer::Start(const std::string& path, Serve serve,
                                                      UnixServerOptions options) {
  auto listener = ListenUnix(path, options.mode);
  if (!listener.ok()) return listener.status();
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) return Internal("eventfd failed");
  std::unique_ptr<UnixServer> server(new UnixServer(path, std::move(serve), std::move(options),
                                                    std::move(listener).value(), std::move(stop)));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

UnixServer::UnixServer(std::string path, Serve serve, UnixServerOptions options, UniqueFd listener,
                       UniqueFd stop_fd)
    : path_(std::move(path)),
      serve_(std::move(serve)),
      options_(std::move(options)),
      listener_(std::move(listener)),
      stop_fd_(std::move(stop_fd)) {}

UnixServer::~UnixServer() { Stop(); }

void UnixServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  // The eventfd stays readable from here on: every poll in every thread sees it.
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

int UnixServer::active_connections() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(sessions_.size() - finished_.size());
}

std::uint64_t UnixServer::accepted() const {
  std::lock_guard lock(mu_);
  return next_id_;
}

void UnixServer::AcceptLoop() {
  const int flags = SOCK_CLOEXEC | (options_.nonblocking_clients ? SOCK_NONBLOCK : 0);
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    JoinFinished();
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, flags));
    if (!client) {
      // Out of descriptors: back off instead of spinning on a readable listener.
      if (errno == EMFILE || errno == ENFILE) ::poll(&fds[1], 1, 100);
      continue;
    }
    Spawn(std::move(client));
  }
}

void UnixServer::Spawn(UniqueFd client) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(sessions_.size() - finished_.size()) >= options_.max_connections) {
    // Best effort, non-blocking: a fresh socket's send buffer takes these few bytes.
    if (!options_.busy_reply.empty()) {
      (void)!::send(client.get(), options_.busy_reply.data(), options_.busy_reply.size(),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return;
  }
  std::uint64_t id = next_id_++;
  auto serve = [this, id, fd = std::move(client)]() mutable {
    serve_(std::move(fd), stop_fd_.get());
    std::lock_guard done(mu_);
    finished_.push_back(id);
  };
  try {
    sessions_.emplace(id, std::thread(std::move(serve)));
  } catch (const std::system_error&) {
    // Out of threads: the lambda (and with it the client socket) is destroyed, closing it.
  }
}

// Joins the threads of connections that ended, so a long-lived server does not accumulate them.
void UnixServer::JoinFinished() {
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

}  // namespace outpost::netproxy
