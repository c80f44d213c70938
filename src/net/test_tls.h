// Test kit for TLS peers that demand client certificates: a throwaway PKI made with the openssl
// CLI, a free loopback port, and a child daemon (openssl s_server, haproxy) that is killed when
// the test ends. Used by net_test and docker_engine_test (runner/docker/).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace outpost::net::tls_test {

// Makes, in `dir` (PEM): ca.pem + ca-key.pem (the test CA); server.pem + server-key.pem (for
// 127.0.0.1 and localhost, signed by the CA) and server-bundle.pem (both, as haproxy takes
// them); cert.pem + key.pem (a client certificate of the CA: the names DOCKER_CERT_PATH
// expects); other-ca.pem and other-cert.pem + other-key.pem (a client certificate of another
// CA). kFailedPrecondition naming openssl when it is missing or fails.
inline Status MakeTestCerts(const std::string& dir) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    return FailedPrecondition("openssl is missing (apt-get install openssl)");
  }
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "set -e; cd '" + dir + "'\n" + "openssl req -x509 " + key +
      " -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=test-ca\n" + "openssl req -x509 " + key +
      " -keyout other-ca-key.pem -out other-ca.pem -days 2 -subj /CN=other-ca\n" +
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' "
      ">server.ext\n"
      "printf 'extendedKeyUsage=clientAuth\\n' >client.ext\n"
      "openssl req " +
      key + " -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1\n" +
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial "
      "-out server.pem -days 2 -extfile server.ext\n"
      "openssl req " +
      key + " -keyout key.pem -out client.csr -subj /CN=client\n" +
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial "
      "-out cert.pem -days 2 -extfile client.ext\n"
      "openssl req " +
      key + " -keyout other-key.pem -out other.csr -subj /CN=intruder\n" +
      "openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca-key.pem "
      "-CAcreateserial -out other-cert.pem -days 2 -extfile client.ext\n"
      "cat server.pem server-key.pem >server-bundle.pem\n";
  // One shell for the whole script (a here-document): each step stops it on failure.
  const std::string run =
      "bash -s >'" + dir + "/openssl.log' 2>&1 <<'OUTPOST_EOF'\n" + script + "OUTPOST_EOF\n";
  if (std::system(run.c_str()) != 0) {
    return FailedPrecondition("openssl failed making test certificates; see " + dir +
                              "/openssl.log");
  }
  return Status::Ok();
}

// A loopback TCP port nobody listens on right now (bound to port 0, then released).
inline std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// True once something accepts TCP connections on 127.0.0.1:port, false after `within`.
inline bool WaitForListener(std::uint16_t port, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A child process (argv[0] an absolute path), its output to `log`; SIGKILLed and reaped when
// this goes away.
class ChildDaemon {
 public:
  ChildDaemon(const std::vector<std::string>& argv, const std::string& log) {
    // Everything the child needs is made before the fork: it only calls async-signal-safe
    // functions (the test process has other threads).
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(null, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(null);
  }
  ~ChildDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildDaemon(const ChildDaemon&) = delete;
  ChildDaemon& operator=(const ChildDaemon&) = delete;
  // False when it has exited already (a bad configuration).
  bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

}  // namespace outpost::net::tls_test
