#include "runner/netproxy/upstream.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/address_policy.h"
#include "runner/netproxy/allowlist.h"

namespace outpost::netproxy {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> Resolve(const HostPort& dest, bool numeric) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
  addrinfo* out = nullptr;
  std::string port = std::to_string(dest.port);
  int rc = ::getaddrinfo(dest.host.c_str(), port.c_str(), &hints, &out);
  if (rc != 0) return Unavailable("cannot resolve " + dest.host + ": " + ::gai_strerror(rc));
  return AddrInfoPtr(out);
}

// Non-blocking connect bounded by the deadline; the socket stays non-blocking for the relay.
Result<UniqueFd> ConnectOne(const addrinfo& ai, const UpstreamOptions& options) {
  UniqueFd fd(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Unavailable(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) return Unavailable(std::string("connect: ") + std::strerror(errno));
  Wait w = WaitFor(fd.get(), POLLOUT, options.deadline, options.stop_fd);
  if (w == Wait::kTimeout) return Unavailable("connect timed out");
  if (w == Wait::kStopped) return Unavailable("proxy stopping");
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Unavailable(std::string("connect: ") + std::strerror(err));
  return fd;
}

}  // namespace

Result<UniqueFd> ConnectUpstream(const HostPort& dest, const UpstreamOptions& options) {
  bool literal = Allowlist::IsIpLiteral(dest.host);
  auto addrs = Resolve(dest, literal);
  if (!addrs.ok()) return addrs.status();
  std::string refused;
  bool tried = false;
  Status last = Unavailable("no address");
  for (const addrinfo* ai = addrs->get(); ai != nullptr; ai = ai->ai_next) {
    // A literal passed the allowlist only through a pattern naming that very address, so the
    // operator chose it (a private model server, say) — but never a link-local one: that is
    // the cloud metadata service, whoever lists it.
    std::string reason = RefusedAddressReason(ai->ai_addr, options.allow_resolved_loopback);
    if (!reason.empty() && (!literal || reason == kLinkLocalReason)) {
      refused = reason;
      continue;
    }
    tried = true;
    auto fd = ConnectOne(*ai, options);
    if (fd.ok()) return fd;
    last = fd.status();
    if (std::chrono::steady_clock::now() >= options.deadline) break;
  }
  if (!tried && !refused.empty()) return Status(Code::kPermissionDenied, refused);
  return Unavailable("cannot connect to " + dest.ToString() + ": " + last.message());
}

}  // namespace outpost::netproxy
