// host:port authorities as they appear in allowlist patterns, CONNECT targets, absolute URLs
// and the forwarder's --listen flag. IPv6 literals are bracketed: "[::1]:443".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace outpost::netproxy {

struct HostPort {
  std::string host;  // as written, without the brackets of an IPv6 literal
  int port = 0;

  // "host:port", bracketing an IPv6 host.
  std::string ToString() const;
};

// Splits at the colon that separates host and port; nullopt when there is none, or when an
// unbracketed host has more than one colon (ambiguous IPv6).
std::optional<std::pair<std::string_view, std::string_view>> SplitHostPort(std::string_view s);

// Parses "host:port" (port 1..65535). When `default_port` is set, "host" alone is accepted.
// kInvalidArgument when the host is empty or the port is malformed.
Result<HostPort> ParseHostPort(std::string_view s, std::optional<int> default_port = {});

// "443" -> 443; nullopt unless 1..65535 in plain decimal.
std::optional<int> ParsePortNumber(std::string_view s);

}  // namespace outpost::netproxy
