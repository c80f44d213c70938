#include "runner/netproxy/relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <vector>

namespace outpost::netproxy {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

// One direction of the relay. Reads only when its buffer is empty, so memory per tunnel is
// bounded and a slow reader applies back-pressure to the writer on the other side.
struct Direction {
  int src;
  int dst;
  std::vector<char> buf = std::vector<char>(kBufferBytes);
  std::size_t off = 0;
  std::size_t len = 0;
  bool eof = false;
  bool done = false;

  bool WantsRead() const { return !done && !eof && len == 0; }
  bool WantsWrite() const { return !done && len > 0; }
};

enum class Step { kIdle, kProgress, kError };

bool WouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

Step Advance(Direction& d) {
  Step step = Step::kIdle;
  if (d.WantsRead()) {
    ssize_t n = ::recv(d.src, d.buf.data(), d.buf.size(), 0);
    if (n > 0) {
      d.off = 0;
      d.len = static_cast<std::size_t>(n);
      step = Step::kProgress;
    } else if (n == 0) {
      d.eof = true;
    } else if (!WouldBlock()) {
      return Step::kError;
    }
  }
  if (d.WantsWrite()) {
    ssize_t n = ::send(d.dst, d.buf.data() + d.off, d.len, MSG_NOSIGNAL);
    if (n > 0) {
      d.off += static_cast<std::size_t>(n);
      d.len -= static_cast<std::size_t>(n);
      step = Step::kProgress;
    } else if (n < 0 && !WouldBlock()) {
      return Step::kError;
    }
  }
  if (!d.done && d.eof && d.len == 0) {
    ::shutdown(d.dst, SHUT_WR);
    d.done = true;
  }
  return step;
}

// Poll entry for `fd`, or a disabled one (fd -1) when nothing is wanted: poll reports POLLHUP
// even for zero events, which would spin.
pollfd Interest(int fd, bool read, bool write) {
  short events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
  return pollfd{events != 0 ? fd : -1, events, 0};
}

}  // namespace

RelayEnd Relay(int a, int b, const RelayOptions& options) {
  std::array<Direction, 2> dirs{Direction{a, b}, Direction{b, a}};
  auto idle_deadline = std::chrono::steady_clock::now() + options.idle_timeout;
  for (;;) {
    bool progress = false;
    for (Direction& d : dirs) {
      Step s = Advance(d);
      if (s == Step::kError) return RelayEnd::kError;
      progress = progress || s == Step::kProgress;
    }
    if (dirs[0].done && dirs[1].done) return RelayEnd::kClosed;
    auto now = std::chrono::steady_clock::now();
    if (progress) idle_deadline = now + options.idle_timeout;
    if (now >= idle_deadline) return RelayEnd::kIdle;
    if (progress) continue;  // try again before sleeping: more may be ready
    std::array<pollfd, 3> fds{Interest(a, dirs[0].WantsRead(), dirs[1].WantsWrite()),
                              Interest(b, dirs[1].WantsRead(), dirs[0].WantsWrite()),
                              pollfd{options.stop_fd, POLLIN, 0}};
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(idle_deadline - now).count();
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    if (rc < 0 && errno != EINTR) return RelayEnd::kError;
    if (fds[2].revents != 0) return RelayEnd::kStopped;
  }
}

}  // namespace outpost::netproxy
