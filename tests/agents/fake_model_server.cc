#include "tests/agents/fake_model_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "tests/integration/server_fixture.h"

namespace outpost::testing {

std::unique_ptr<FakeModelServer> FakeModelServer::Start(const std::string& server_js,
                                                        const std::string& host) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args = {"node", server_js, "--host", host, "--port", "0"};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("node", argv.data());
    _exit(127);
  }
  close(out[1]);
  auto server = std::unique_ptr<FakeModelServer>(new FakeModelServer);
  server->pid_ = pid;
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);  // later output goes nowhere; the server writes nothing else to stdout
  const std::string prefix = "listening on http://";
  if (line.rfind(prefix, 0) != 0) {
    throw std::runtime_error("fake model server did not start: '" + line + "'");
  }
  server->address_ = line.substr(prefix.size());
  return server;
}

FakeModelServer::~FakeModelServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool FakeModelServer::SetScript(const boost::json::array& steps) const {
  if (Http(address_, "POST", "/__reset").status != 200) return false;
  HttpResponse r = Http(address_, "POST", "/__script", boost::json::serialize(steps),
                        {{"Content-Type", "application/json"}});
  return r.status == 200;
}

boost::json::array FakeModelServer::Requests() const {
  HttpResponse r = Http(address_, "GET", "/__requests");
  boost::json::value v = r.Json();
  return v.is_array() ? v.as_array() : boost::json::array{};
}

}  // namespace outpost::testing
