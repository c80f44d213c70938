// Allowlist: the egress policy of a run with network "allowlist" — which host:port pairs the
// sandbox's proxy may connect to.
//
// A pattern is "host:port". The host is an exact DNS name ("api.anthropic.com"), a wildcard
// "*.example.com" (any subdomain at any depth, never the apex "example.com"), or an IP literal
// ("10.0.0.7", "[2001:db8::1]"). The port is 1..65535 or "*". Names match case-insensitively and
// ignore one trailing dot; IP literals match by address (so "[::1]" and "[0:0::1]" are the same)
// and are never matched by name patterns. A bare "*" host is refused: that is network "host".
//
// Immutable after construction, so every const method is safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost::netproxy {

class Allowlist {
 public:
  // kInvalidArgument listing every malformed pattern (details.errors[].path = "allow[i]").
  static Result<Allowlist> Create(const std::vector<std::string>& patterns);

  // An empty list: allows nothing.
  Allowlist() = default;

  // True when some pattern admits host:port. `host` is what the client asked for: a name or an
  // IP literal, IPv6 with or without brackets.
  bool Allows(std::string_view host, int port) const;

  // True when `host` is an IPv4 or IPv6 literal (brackets allowed around IPv6).
  static bool IsIpLiteral(std::string_view host);
  // True for an IP literal or a syntactically valid DNS name (one trailing dot allowed).
  static bool IsValidHost(std::string_view host);

  std::size_t size() const { return patterns_.size(); }

 private:
  enum class Kind { kExact, kSuffix, kIp };
  struct Pattern {
    Kind kind = Kind::kExact;
    std::string host;  // kExact: lowercased name; kSuffix: ".example.com"; kIp: address bytes
    int port = 0;      // 0 = any port
  };
  static Result<Pattern> ParsePattern(std::string_view text);

  std::vector<Pattern> patterns_;
};

}  // namespace outpost::netproxy
