// Test helper: a plain-HTTP server on 127.0.0.1:0 that asks every client for credentials
// (401 + WWW-Authenticate: Basic) and records what each request carried — the stand-in for a
// host that wants the operator's git token. Optionally it redirects requests whose Host starts
// with `redirect_host` and that carry credentials to `redirect_to` + path (a host that takes the
// token, then sends git elsewhere). One thread, one connection at a time. GitDaemonRecorder:
// the same for git:// (it records each connection's request line).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace outpost::workspace::testing {

// A listener on 127.0.0.1:0 with one thread that hands each accepted connection to `handle`
// (which closes it), one at a time, until destroyed. Declare it as the owner's last member:
// it stops (and joins) before what `handle` uses is destroyed.
class LoopbackAcceptor {
 public:
  LoopbackAcceptor(const std::string& name, int backlog, std::function<void(int)> handle)
      : handle_(std::move(handle)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, backlog) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 || ::pipe(stop_) != 0) {
      throw std::runtime_error(name + ": cannot listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackAcceptor() {
    (void)!::write(stop_[1], "x", 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) handle_(c);
    }
  }

  std::function<void(int)> handle_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

class AuthRecordingServer {
 public:
  struct Seen {
    std::string host, path, authorization;  // "" when the request had no Authorization
  };

  explicit AuthRecordingServer(std::string redirect_host = "", std::string redirect_to = "")
      : redirect_host_(std::move(redirect_host)), redirect_to_(std::move(redirect_to)) {}

  int port() const { return acceptor_.port(); }
  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  // Every Authorization value received, joined by '\n'.
  std::string authorizations() const {
    std::string out;
    for (const Seen& s : seen()) out += s.authorization.empty() ? "" : s.authorization + "\n";
    return out;
  }

 private:
  static std::string Header(const std::string& head, const std::string& name) {
    std::size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string::npos) {
      pos += 2;
      if (head.size() - pos < name.size() + 1) break;
      if (strncasecmp(head.c_str() + pos, name.c_str(), name.size()) == 0 &&
          head[pos + name.size()] == ':') {
        std::size_t v = head.find_first_not_of(' ', pos + name.size() + 1);
        return head.substr(v, head.find("\r\n", v) - v);
      }
    }
    return "";
  }

  void Handle(int c) {
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t sp = head.find(' ');
    std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
    Seen s{Header(head, "Host"), path, Header(head, "Authorization")};
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(s);
    }
    std::string reply;
    if (!redirect_host_.empty() && s.host.starts_with(redirect_host_) && !s.authorization.empty()) {
      reply = "HTTP/1.1 302 Found\r\nLocation: " + redirect_to_ + path +
              "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else {
      reply =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n";
    }
    (void)!::write(c, reply.data(), reply.size());
    ::close(c);
  }

  std::string redirect_host_, redirect_to_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  LoopbackAcceptor acceptor_{"AuthRecordingServer", 16, [this](int c) { Handle(c); }};
};

// A git daemon stand-in on 127.0.0.1:0: records the first pkt-line of each connection (git's
// "git-upload-pack /path\0host=<host>\0" request), then hangs up.
class GitDaemonRecorder {
 public:
  int port() const { return acceptor_.port(); }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Reads exactly n bytes (false at EOF or error).
  static bool ReadN(int fd, std::string& out, std::size_t n) {
    char buf[512];
    while (n > 0) {
      ssize_t got = ::read(fd, buf, std::min(n, sizeof buf));
      if (got <= 0) return false;
      out.append(buf, static_cast<std::size_t>(got));
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }
  void Handle(int c) {
    std::string len, line;
    if (ReadN(c, len, 4) && len.find_first_not_of("0123456789abcdef") == std::string::npos) {
      const std::size_t n = std::stoul(len, nullptr, 16);
      if (n > 4 && ReadN(c, line, n - 4)) {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(line);
      }
    }
    ::close(c);
  }
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  LoopbackAcceptor acceptor_{"GitDaemonRecorder", 4, [this](int c) { Handle(c); }};
};

}  // namespace outpost::workspace::testing
