// One client connection of the EgressProxy, from request head to the end of the relay.
// Internal to netproxy; separate from proxy.cc so the lifecycle and the protocol read apart.
#pragma once

#include "common/clock.h"
#include "runner/netproxy/allowlist.h"
#include "runner/netproxy/proxy.h"
#include "runner/netproxy/socket_util.h"

namespace outpost::netproxy {

// Everything a session reads; owned by the EgressProxy, which outlives its sessions.
struct SessionContext {
  const Allowlist& allowlist;
  const EgressProxyOptions& options;
  const BlockedFn& on_blocked;
  Clock& clock;
  int stop_fd;  // readable = the proxy is stopping
};

// Serves `client` to completion and closes it. Never throws; every failure is answered with
// an HTTP status (when the client can still hear it) or ends the connection.
void ServeConnection(UniqueFd client, const SessionContext& ctx);

// The one mapping from a Status code met while serving to the HTTP status replied.
int HttpStatusFor(Code code);

}  // namespace outpost::netproxy
