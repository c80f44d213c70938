#include "runner/netproxy/proxy.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "runner/netproxy/session.h"

namespace outpost::netproxy {
namespace {

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

}  // namespace

Result<std::unique_ptr<EgressProxy>> EgressProxy::Start(const std::string& unix_socket_path,
                                                        Allowlist allowlist, BlockedFn on_blocked,
                                                        Options options) {
  auto listener = ListenUnix(unix_socket_path, 0666);
  if (!listener.ok()) return listener.status();
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) return Internal("eventfd failed");
  if (options.clock == nullptr) options.clock = &RealClock::Instance();
  std::unique_ptr<EgressProxy> proxy(new EgressProxy(unix_socket_path, std::move(allowlist),
                                                     std::move(on_blocked), options,
                                                     std::move(listener).value(), std::move(stop)));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

EgressProxy::EgressProxy(std::string path, Allowlist allowlist, BlockedFn on_blocked,
                         Options options, UniqueFd listener, UniqueFd stop_fd)
    : path_(std::move(path)),
      allowlist_(std::move(allowlist)),
      on_blocked_(std::move(on_blocked)),
      options_(options),
      listener_(std::move(listener)),
      stop_fd_(std::move(stop_fd)) {}

EgressProxy::~EgressProxy() { Stop(); }

void EgressProxy::Stop() {
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

int EgressProxy::active_connections() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(sessions_.size() - finished_.size());
}

void EgressProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    JoinFinished();
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) {
      // Out of descriptors: back off instead of spinning on a readable listener.
      if (errno == EMFILE || errno == ENFILE) ::poll(&fds[1], 1, 100);
      continue;
    }
    Spawn(std::move(client));
  }
}

void EgressProxy::Spawn(UniqueFd client) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(sessions_.size() - finished_.size()) >= options_.max_connections) {
    // Best effort, non-blocking: a fresh socket's send buffer takes these few bytes.
    (void)!::send(client.get(), kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return;
  }
  std::uint64_t id = next_id_++;
  auto serve = [this, id, fd = std::move(client)]() mutable {
    SessionContext ctx{allowlist_, options_, on_blocked_, *options_.clock, stop_fd_.get()};
    ServeConnection(std::move(fd), ctx);
    std::lock_guard done(mu_);
    finished_.push_back(id);
  };
  try {
    sessions_.emplace(id, std::thread(std::move(serve)));
  } catch (const std::system_error&) {
    // Out of threads: the lambda (and with it the client socket) is destroyed, closing it.
  }
}

// Joins the threads of sessions that ended, so a long-lived proxy does not accumulate them.
void EgressProxy::JoinFinished() {
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
