// A tiny scripted HTTP/1.1 server for the tests of the HTTP clients (cli, client, mcp, aws, grok):
// a thread with a blocking Beast acceptor on 127.0.0.1 that answers each request (one per
// connection, `Connection: close`) with what a handler returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outpost::testing {

struct FakeRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  // Listens on 127.0.0.1:`port` (0: any free port) and serves until destroyed.
  explicit FakeHttpServer(Handler handler, std::uint16_t port = 0);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> requests() const;

 private:
  struct Impl;
  void Serve();

  Handler handler_;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

// A port on 127.0.0.1 that nothing listens on (bound, read, closed).
std::uint16_t UnusedPort();

// An envelope: {"success":true,"data":<data>,"meta":{}}.
std::string Envelope(const std::string& data_json);

}  // namespace outpost::testing
