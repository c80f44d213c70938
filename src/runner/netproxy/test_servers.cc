#include "runner/netproxy/test_servers.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>

#include "runner/netproxy/http_head.h"

namespace outpost::netproxy::testing {

TestServer::TestServer(Mode mode, std::string body) : mode_(mode), body_(std::move(body)) {
  auto l = ListenTcp("127.0.0.1", 0);
  assert(l.ok());
  listener_ = std::move(l).value();
  port_ = LocalPort(listener_.get()).value();
  stop_.reset(::eventfd(0, EFD_CLOEXEC));
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TestServer::~TestServer() {
  std::uint64_t one = 1;
  (void)!::write(stop_.get(), &one, sizeof one);
  acceptor_.join();
  std::lock_guard lock(mu_);
  for (std::thread& t : conns_) t.join();
}

std::vector<std::string> TestServer::heads() {
  std::lock_guard lock(mu_);
  return heads_;
}

void TestServer::AcceptLoop() {
  for (;;) {
    if (WaitFor(listener_.get(), POLLIN, DeadlineIn(std::chrono::hours(1)), stop_.get()) !=
        Wait::kReady) {
      return;
    }
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) continue;
    std::lock_guard lock(mu_);
    conns_.emplace_back([this, c = std::move(fd)]() mutable { Serve(std::move(c)); });
  }
}

void TestServer::Serve(UniqueFd fd) {
  if (mode_ == Mode::kEcho) {
    Echo(fd.get());
  } else {
    Http(fd.get());
  }
}

void TestServer::Echo(int fd) {
  char buf[16384];
  for (;;) {
    if (WaitFor(fd, POLLIN, DeadlineIn(std::chrono::seconds(30)), stop_.get()) != Wait::kReady) {
      return;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    if (!SendAll(fd, std::string_view(buf, static_cast<std::size_t>(n)),
                 DeadlineIn(std::chrono::seconds(30)), stop_.get())
             .ok()) {
      return;
    }
  }
}

void TestServer::Http(int fd) {
  std::string head = ReadUntil(fd, "\r\n\r\n");
  {
    std::lock_guard lock(mu_);
    heads_.push_back(head);
  }
  std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_.size()) +
                         "\r\nConnection: close\r\n\r\n" + body_;
  (void)SendAll(fd, response, DeadlineIn(std::chrono::seconds(10)), stop_.get());
}

int UnusedPort() {
  auto l = ListenTcp("127.0.0.1", 0);
  assert(l.ok());
  return LocalPort(l->get()).value();
}

namespace {

// Appends up to `max` bytes; false on EOF, error or deadline.
bool ReadSome(int fd, std::string& out, std::size_t max, Deadline deadline) {
  if (WaitFor(fd, POLLIN, deadline) != Wait::kReady) return false;
  char buf[16384];
  ssize_t n = ::recv(fd, buf, std::min(max, sizeof buf), 0);
  if (n <= 0) return false;
  out.append(buf, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  Deadline deadline = DeadlineIn(timeout);
  while (ReadSome(fd, out, SIZE_MAX, deadline)) {
  }
  return out;
}

std::string ReadUntil(int fd, std::string_view marker, std::chrono::milliseconds timeout) {
  std::string out;
  Deadline deadline = DeadlineIn(timeout);
  while (out.find(marker) == std::string::npos && ReadSome(fd, out, 1, deadline)) {
  }
  return out;
}

std::string ReadN(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  Deadline deadline = DeadlineIn(timeout);
  while (out.size() < n && ReadSome(fd, out, n - out.size(), deadline)) {
  }
  return out;
}

}  // namespace outpost::netproxy::testing
