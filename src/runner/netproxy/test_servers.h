// Test doubles for the netproxy tests: real origin servers on 127.0.0.1:0 and small blocking
// client helpers with deadlines (nothing sleeps and hopes).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runner/netproxy/socket_util.h"

namespace outpost::netproxy::testing {

// A TCP server on 127.0.0.1:<ephemeral>. kEcho echoes every byte until the client closes;
// kHttp reads one request head, records it, and answers 200 with `body` and Connection: close.
class TestServer {
 public:
  enum class Mode { kEcho, kHttp };
  explicit TestServer(Mode mode, std::string body = "");
  ~TestServer();

  int port() const { return port_; }
  std::vector<std::string> heads();  // request heads received (kHttp)

 private:
  void AcceptLoop();
  void Serve(UniqueFd fd);
  void Echo(int fd);
  void Http(int fd);

  const Mode mode_;
  const std::string body_;
  UniqueFd listener_;
  UniqueFd stop_;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> conns_;  // guarded by mu_
  std::vector<std::string> heads_;  // guarded by mu_
};

// A port on 127.0.0.1 that nobody listens on (bound then released).
int UnusedPort();

// Reads until EOF, an error, or the deadline; returns what arrived.
std::string ReadAll(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Reads until `marker` has arrived (returns everything read so far), EOF, or the deadline.
std::string ReadUntil(int fd, std::string_view marker,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Reads exactly n bytes unless EOF or the deadline comes first.
std::string ReadN(int fd, std::size_t n,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace outpost::netproxy::testing
