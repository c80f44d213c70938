#include "common/address_policy.h"

#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace outpost {
namespace {

// Whether `a` lies in prefix/len (both host order).
bool In4(std::uint32_t a, std::uint32_t prefix, int len) {
  return len == 0 || (a >> (32 - len)) == (prefix >> (32 - len));
}

std::string V4Reason(std::uint32_t a, bool allow_loopback) {
  if (In4(a, 0xA9FE0000, 16)) return kLinkLocalReason;
  if (In4(a, 0x7F000000, 8) || a == 0) {
    return allow_loopback ? "" : "resolves to a loopback address";
  }
  // Audit F13: private, shared (carrier-grade NAT), "this network", IETF protocol, benchmark,
  // multicast and reserved/broadcast space are no model API's address.
  struct Net {
    std::uint32_t prefix;
    int len;
  };
  static constexpr Net kInternal[] = {{0x0A000000, 8},  {0xAC100000, 12}, {0xC0A80000, 16},
                                      {0x64400000, 10}, {0x00000000, 8},  {0xC0000000, 24},
                                      {0xC6120000, 15}, {0xE0000000, 4},  {0xF0000000, 4}};
  for (const Net& n : kInternal) {
    if (In4(a, n.prefix, n.len)) return "resolves to a private or reserved address";
  }
  return "";
}

std::uint32_t V4At(const in6_addr& a, int offset) {
  std::uint32_t v4;
  std::memcpy(&v4, a.s6_addr + offset, 4);
  return ntohl(v4);
}

std::string V6Reason(const in6_addr& a, bool allow_loopback) {
  const std::uint8_t* b = a.s6_addr;
  // Forms that carry an IPv4 address are judged by it: IPv4-mapped (::ffff:0:0/96),
  // IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
  if (IN6_IS_ADDR_V4MAPPED(&a)) return V4Reason(V4At(a, 12), allow_loopback);
  bool loopback = IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a);
  if (loopback) return allow_loopback ? "" : "resolves to a loopback address";
  if (IN6_IS_ADDR_V4COMPAT(&a)) return V4Reason(V4At(a, 12), allow_loopback);
  static constexpr std::uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (std::memcmp(b, kNat64, 12) == 0) return V4Reason(V4At(a, 12), allow_loopback);
  if (b[0] == 0x20 && b[1] == 0x02) return V4Reason(V4At(a, 2), allow_loopback);
  if (IN6_IS_ADDR_LINKLOCAL(&a)) return kLinkLocalReason;
  if ((b[0] & 0xfe) == 0xfc ||      // ULA fc00::/7 (IMDSv6)
      IN6_IS_ADDR_SITELOCAL(&a) ||  // fec0::/10
      b[0] == 0xff ||               // multicast
      (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 &&
       b[5] == 0x01) ||  // local NAT64 64:ff9b:1::/48
      (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)) {  // Teredo 2001::/32
    return "resolves to a private or reserved address";
  }
  return "";
}

}  // namespace

std::string RefusedAddressReason(const sockaddr* addr, bool allow_loopback) {
  if (addr->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    return V4Reason(ntohl(v4->sin_addr.s_addr), allow_loopback);
  }
  if (addr->sa_family == AF_INET6) {
    return V6Reason(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, allow_loopback);
  }
  return "resolves to a non-IP address";
}

}  // namespace outpost
