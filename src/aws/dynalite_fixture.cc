// The child runs in its own process group so that stopping it reaches node and anything it
// spawned. Its output goes to a file (not a pipe nobody drains) polled for the listening line.
#include "aws/dynalite_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace outpost::aws::testing {
namespace fs = std::filesystem;
namespace {

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed).
std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

Dynalite::Dynalite() {
  const std::string bin = std::string(OUTPOST_SOURCE_DIR) + "/node_modules/.bin/dynalite";
  if (!fs::exists(bin)) {
    skip_ = "dynalite is not installed (node_modules absent): run scripts/install-deps.sh test";
    error_ = skip_;
    return;
  }
  char tmpl[] = "/tmp/outpost-dynalite-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    std::uint16_t port = FreePort();
    if (port != 0 && StartOn(port)) port_ = port;
  }
}

bool Dynalite::StartOn(std::uint16_t port) {
  const std::string bin = std::string(OUTPOST_SOURCE_DIR) + "/node_modules/.bin/dynalite";
  const std::string log = dir_ + "/stdout.log";
  const std::string port_arg = std::to_string(port);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execl(bin.c_str(), bin.c_str(), "--host", "127.0.0.1", "--port", port_arg.c_str(),
            "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string text;
  for (int i = 0; i < 600; ++i) {  // 30 s
    text = Slurp(log);
    if (text.find("listening at") != std::string::npos) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "dynalite exited before listening; output: " + text;
      return false;
    }
    ::usleep(20'000);
  }
  error_ = "dynalite did not report listening within 30 s; output: " + text;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return false;
}

Dynalite::~Dynalite() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(100'000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace outpost::aws::testing
