// Upstream connections of the egress proxy: DNS resolution (outside the sandbox) and the
// address policy applied to what a name resolves to.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/address_policy.h"
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

// The address policy (common/address_policy.h). ConnectUpstream applies all of it to names,
// and only the link-local rule to an IP literal (which the allowlist admitted only because a
// pattern named that very address).
using outpost::RefusedAddressReason;

// A connected, non-blocking TCP socket to `dest`. An IP literal host is connected as given (the
// allowlist named it explicitly); a name is resolved and every address is tried in order,
// skipping refused ones. Errors: kPermissionDenied (message = the reason) when the name
// resolved only to refused addresses; kUnavailable when resolution or every connect failed,
// timed out, or stop_fd fired.
Result<UniqueFd> ConnectUpstream(const HostPort& dest, const UpstreamOptions& options);

}  // namespace outpost::netproxy
