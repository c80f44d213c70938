// Which IP addresses a host-side connection chosen by a tenant must not reach: the address
// classifier shared by the egress proxy (netproxy, audit F13) and the clone of a dispatch's
// repository (workspace, audit F10).
#pragma once

#include <sys/socket.h>

#include <string>

namespace outpost {

inline constexpr char kLinkLocalReason[] = "resolves to a link-local address";

// Why `addr` must not be connected to when it came from resolving a tenant's name; empty when
// it may. Refused: link-local (169.254/16, fe80::/10: cloud metadata services), loopback
// (127/8, ::1, 0.0.0.0, ::) unless allowed, and private or reserved space (RFC 1918,
// 100.64/10, 0/8, 192.0.0/24, 198.18/15, multicast, 240/4; ULA fc00::/7, site-local,
// multicast, local NAT64, Teredo) — IPv6 forms that embed an IPv4 address (mapped, compatible,
// NAT64 64:ff9b::/96, 6to4) by that address.
std::string RefusedAddressReason(const sockaddr* addr, bool allow_loopback);

}  // namespace outpost
