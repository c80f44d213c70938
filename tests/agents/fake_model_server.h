// Test helper: tests/fake_model_server/server.js as a child process (node, stdlib only), on a
// loopback address with port 0, scripted and inspected over its control endpoints.
#pragma once

#include <sys/types.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>

namespace outpost::testing {

class FakeModelServer {
 public:
  // Starts `node SCRIPT --host HOST --port 0` and waits for its "listening on" line.
  // Throws std::runtime_error when node or the script is missing or the server does not start.
  static std::unique_ptr<FakeModelServer> Start(const std::string& server_js,
                                                const std::string& host = "127.0.0.2");
  ~FakeModelServer();  // SIGTERM, then SIGKILL

  const std::string& address() const { return address_; }  // HOST:PORT
  std::string host() const { return address_.substr(0, address_.rfind(':')); }
  int port() const { return std::stoi(address_.substr(address_.rfind(':') + 1)); }
  std::string url() const { return "http://" + address_; }

  // Replaces the script (a list of steps, see server.js) and clears recorded requests and
  // hung connections. Returns false when the server refused it.
  bool SetScript(const boost::json::array& steps) const;
  // Every model request since the last SetScript: [{method, path, headers, body}].
  boost::json::array Requests() const;

 private:
  FakeModelServer() = default;
  pid_t pid_ = -1;
  std::string address_;
};

}  // namespace outpost::testing
