// Upstream connections of the egress proxy: DNS resolution (outside the sandbox) and the
// address policy applied to what a name resolves to.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/status.h"
#include "runner/netproxy/host_port.h"
#include "runner/netproxy/socket_util.h"

namespace outpost::netproxy {

struct UpstreamOptions {
  // Names resolving to loopback (127/8, ::1, 0.0.0.0, ::) would reach services of the host the
  // proxy runs on (the control plane itself), so they are refused unless this is set.
  bool allow_resolved_loopback = false;
  Deadline deadline;  // for the TCP connect (resolution is bounded by the resolver's timeouts)
  int stop_fd = -1;
};

// Why the proxy must not connect to `addr` when it came from resolving a name; empty when it
// may. Link-local (169.254/16, fe80::/10, and their IPv4-mapped forms) is always refused: that
// is where cloud metadata services live.
std::string RefusedAddressReason(const sockaddr* addr, bool allow_loopback);

// A connected, non-blocking TCP socket to `dest`. An IP literal host is connected as given (the
// allowlist named it explicitly); a name is resolved and every address is tried in order,
// skipping refused ones. Errors: kPermissionDenied (message = the reason) when the name
// resolved only to refused addresses; kUnavailable when resolution or every connect failed,
// timed out, or stop_fd fired.
Result<UniqueFd> ConnectUpstream(const HostPort& dest, const UpstreamOptions& options);

}  // namespace outpost::netproxy
