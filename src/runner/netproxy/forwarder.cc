#include "runner/netproxy/forwarder.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include "runner/netproxy/allowlist.h"
#include "runner/netproxy/relay.h"
#include "runner/netproxy/socket_util.h"

namespace outpost::netproxy {
namespace {

constexpr int kExitBadUsage = 127;
// The proxy enforces the real idle timeout; this only reaps relays the proxy side forgot.
constexpr std::chrono::hours kForwardIdle{6};
constexpr std::string_view kNoProxy =
    "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"
    "outpost: egress proxy not reachable\n";

// Takes the value of `--name v` or `--name=v` at args[i]; advances i past it.
std::optional<std::string> FlagValue(const std::vector<std::string>& args, std::size_t& i,
                                     std::string_view name) {
  const std::string& a = args[i];
  if (a == name && i + 1 < args.size()) return args[++i];
  if (a.size() > name.size() && a.starts_with(name) && a[name.size()] == '=') {
    return a.substr(name.size() + 1);
  }
  return std::nullopt;
}

void RelayOne(UniqueFd tcp, const std::string& socket_path) {
  auto unix_fd = ConnectUnix(socket_path);
  if (!unix_fd.ok()) {
    (void)SendAll(tcp.get(), kNoProxy, DeadlineIn(std::chrono::seconds(5)));
    return;
  }
  if (!SetNonBlocking(tcp.get()).ok() || !SetNonBlocking(unix_fd->get()).ok()) return;
  Relay(tcp.get(), unix_fd->get(), RelayOptions{kForwardIdle, -1});
}

// The forwarder child: accept forever, one detached thread per connection. It is killed, never
// stopped, so nothing needs joining.
[[noreturn]] void ServeForever(int listener, const std::string& socket_path) {
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        ::usleep(100'000);  // resources may come back; do not spin meanwhile
      } else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
        std::_Exit(1);  // the listener itself is broken
      }
      continue;
    }
    try {
      std::thread([c = UniqueFd(fd), socket_path]() mutable {
        RelayOne(std::move(c), socket_path);
      }).detach();
    } catch (const std::system_error&) {
      // Out of threads: the connection is closed with the lambda.
    }
  }
}

void DetachStdio() {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return;
  // Holding the agent's stdout would delay the shim seeing EOF on it.
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(null_fd, STDOUT_FILENO);
  ::close(null_fd);
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "outpost sandbox-forward: %s\n", message.c_str());
  return kExitBadUsage;
}

int Exec(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  return Fail("cannot execute " + command[0] + ": " + std::strerror(errno));
}

}  // namespace

Result<ForwardArgs> ParseForwardArgs(const std::vector<std::string>& args) {
  ForwardArgs out;
  std::optional<std::string> listen;
  std::size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (auto v = FlagValue(args, i, "--listen")) {
      listen = v;
    } else if (auto s = FlagValue(args, i, "--socket")) {
      out.socket = *s;
    } else {
      return InvalidArgument("unexpected argument \"" + args[i] + "\"");
    }
  }
  if (!listen) return InvalidArgument("--listen HOST:PORT is required");
  if (out.socket.empty()) return InvalidArgument("--socket PATH is required");
  if (i + 1 >= args.size()) return InvalidArgument("expected -- CMD ARGS...");
  out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  auto hp = ParseHostPort(*listen);
  if (!hp.ok()) return InvalidArgument("--listen: " + hp.status().message());
  if (!Allowlist::IsIpLiteral(hp->host)) return InvalidArgument("--listen needs an IP address");
  out.listen = *hp;
  return out;
}

int RunSandboxForward(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty() && args.front() == "sandbox-forward") args.erase(args.begin());
  auto parsed = ParseForwardArgs(args);
  if (!parsed.ok()) return Fail(parsed.status().message());
  auto listener = ListenTcp(parsed->listen.host, parsed->listen.port);
  if (!listener.ok()) return Fail(listener.status().message());
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(0);  // the parent died before prctl took effect
    DetachStdio();
    ServeForever(listener->get(), parsed->socket);
  }
  listener->reset();  // close-on-exec anyway; the agent has no use for it
  return Exec(parsed->command);
}

}  // namespace outpost::netproxy
