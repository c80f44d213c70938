#include "runner/netproxy/host_port.h"

#include <charconv>

namespace outpost::netproxy {

std::string HostPort::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<std::pair<std::string_view, std::string_view>> SplitHostPort(std::string_view s) {
  std::size_t colon = std::string_view::npos;
  if (s.starts_with('[')) {
    std::size_t close = s.find("]:");
    if (close != std::string_view::npos) colon = close + 1;
  } else {
    colon = s.find(':');
    if (s.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
  }
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::pair{s.substr(0, colon), s.substr(colon + 1)};
}

std::optional<int> ParsePortNumber(std::string_view s) {
  int port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

namespace {
std::string_view Unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}
}  // namespace

Result<HostPort> ParseHostPort(std::string_view s, std::optional<int> default_port) {
  auto parts = SplitHostPort(s);
  std::string_view host;
  std::optional<int> port;
  if (parts) {
    host = parts->first;
    port = ParsePortNumber(parts->second);
    if (!port) return InvalidArgument("bad port in \"" + std::string(s) + "\"");
  } else if (default_port && s.find(':') == std::string_view::npos) {
    host = s;
    port = default_port;
  } else if (default_port && s.starts_with('[') && s.ends_with(']')) {
    host = s;
    port = default_port;
  } else {
    return InvalidArgument("expected host:port, got \"" + std::string(s) + "\"");
  }
  host = Unbracket(host);
  if (host.empty()) return InvalidArgument("empty host in \"" + std::string(s) + "\"");
  return HostPort{std::string(host), *port};
}

}  // namespace outpost::netproxy
