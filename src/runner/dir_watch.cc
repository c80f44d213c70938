#include "runner/dir_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace outpost {
namespace {

// IN_MODIFY is every write; IN_CLOSE_WRITE and IN_MOVED_TO cover files written elsewhere and
// renamed in; IN_DELETE_SELF/IN_IGNORED the directory going away.
constexpr std::uint32_t kMask =
    IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR;

}  // namespace

Result<std::unique_ptr<DirWatcher>> DirWatcher::Create() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Internal(std::string("inotify_init1: ") + std::strerror(errno));
  int stop = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop < 0) {
    ::close(fd);
    return Internal(std::string("eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<DirWatcher> w(new DirWatcher(fd, stop));
  w->thread_ = std::thread([raw = w.get()] { raw->Loop(); });
  return w;
}

DirWatcher::DirWatcher(int inotify_fd, int stop_fd) : fd_(inotify_fd), stop_fd_(stop_fd) {}

DirWatcher::~DirWatcher() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  ::close(stop_fd_);
}

Result<std::unique_ptr<DirWatcher::Subscription>> DirWatcher::Subscribe(const std::string& dir,
                                                                        std::string name,
                                                                        Callback cb) {
  std::lock_guard lock(mu_);
  // Watching a directory twice returns the same descriptor: it is shared.
  int wd = ::inotify_add_watch(fd_, dir.c_str(), kMask);
  if (wd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound("no directory " + dir);
    if (errno == ENOSPC) return Status(Code::kResourceExhausted, "inotify watch limit reached");
    return Internal("inotify_add_watch " + dir + ": " + std::strerror(errno));
  }
  const std::uint64_t id = next_id_++;
  subs_[wd].push_back({id, std::move(name), std::move(cb)});
  return std::unique_ptr<Subscription>(new Subscription(*this, wd, id));
}

DirWatcher::Subscription::~Subscription() { watcher_.Unsubscribe(wd_, id_); }

void DirWatcher::Unsubscribe(int wd, std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(wd);
  if (it == subs_.end()) return;  // the directory went away meanwhile
  std::erase_if(it->second, [id](const Subscriber& s) { return s.id == id; });
  if (it->second.empty()) {
    ::inotify_rm_watch(fd_, wd);
    subs_.erase(it);
  }
}

void DirWatcher::Loop() {
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) Dispatch(buf, static_cast<std::size_t>(n));
  }
}

// Each subscriber is called at most once per batch of events, however many concern it.
void DirWatcher::Dispatch(const char* buf, std::size_t len) {
  std::set<std::pair<int, std::string>> touched;
  std::set<int> gone;
  bool overflow = false;
  for (std::size_t off = 0; off + sizeof(inotify_event) <= len;) {
    const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
    off += sizeof(inotify_event) + e->len;
    if (e->mask & IN_Q_OVERFLOW) {
      overflow = true;  // events were lost: anything may have changed
    } else if (e->mask & (IN_IGNORED | IN_DELETE_SELF)) {
      gone.insert(e->wd);
    } else if (e->len > 0) {
      touched.emplace(e->wd, std::string(e->name));
    }
  }
  std::lock_guard lock(mu_);
  if (overflow) {
    for (const auto& [wd, subs] : subs_) {
      for (const Subscriber& s : subs) s.cb();
    }
  }
  for (const auto& [wd, name] : touched) {
    auto it = subs_.find(wd);
    if (it == subs_.end()) continue;
    for (const Subscriber& s : it->second) {
      if (s.name == name) s.cb();
    }
  }
  for (int wd : gone) {
    auto it = subs_.find(wd);
    if (it == subs_.end()) continue;
    for (const Subscriber& s : it->second) s.cb();
    subs_.erase(it);  // the kernel dropped the watch (IN_IGNORED follows IN_DELETE_SELF)
  }
}

}  // namespace outpost
