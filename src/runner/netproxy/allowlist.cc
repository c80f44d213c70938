#include "runner/netproxy/allowlist.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "runner/netproxy/host_port.h"

namespace outpost::netproxy {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view StripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// The address bytes (4 or 16) of an IP literal; nullopt for anything else.
std::optional<std::string> IpBytes(std::string_view host) {
  std::string text(StripBrackets(host));
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(buf, buf + 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return std::string(buf, buf + 16);
  return std::nullopt;
}

// DNS names: dot-separated labels of letters, digits, '-' and '_' (seen in real hosts), at most
// 253 characters. One trailing dot (the root) is dropped by the caller.
bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

std::string_view DropRootDot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// "443" -> 443, "*" -> 0 (any); nullopt when not a port.
std::optional<int> ParsePatternPort(std::string_view s) {
  if (s == "*") return 0;
  return ParsePortNumber(s);
}

}  // namespace

bool Allowlist::IsIpLiteral(std::string_view host) { return IpBytes(host).has_value(); }

bool Allowlist::IsValidHost(std::string_view host) {
  return IsIpLiteral(host) || IsValidName(DropRootDot(host));
}

Result<Allowlist::Pattern> Allowlist::ParsePattern(std::string_view text) {
  auto parts = SplitHostPort(text);
  if (!parts) return InvalidArgument("expected host:port (IPv6 as [addr]:port)");
  std::string_view host = parts->first;
  auto port = ParsePatternPort(parts->second);
  if (!port) return InvalidArgument("port must be 1..65535 or *");
  if (auto ip = IpBytes(host)) return Pattern{Kind::kIp, *ip, *port};
  if (host.front() == '[') return InvalidArgument("bad IPv6 literal");
  if (host.starts_with("*.")) {
    std::string_view suffix = DropRootDot(host.substr(2));
    if (!IsValidName(suffix)) return InvalidArgument("bad domain after *.");
    return Pattern{Kind::kSuffix, "." + Lower(suffix), *port};
  }
  host = DropRootDot(host);
  if (!IsValidName(host)) return InvalidArgument("bad host name");
  return Pattern{Kind::kExact, Lower(host), *port};
}

Result<Allowlist> Allowlist::Create(const std::vector<std::string>& patterns) {
  Allowlist list;
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    Result<Pattern> p = patterns[i].empty() ? Result<Pattern>(InvalidArgument("empty pattern"))
                                            : ParsePattern(patterns[i]);
    if (p.ok()) {
      list.patterns_.push_back(std::move(p).value());
    } else {
      errors.push_back(
          {"allow[" + std::to_string(i) + "]", p.status().message() + ": \"" + patterns[i] + "\""});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors, "malformed allowlist pattern");
  return list;
}

bool Allowlist::Allows(std::string_view host, int port) const {
  if (port < 1 || port > 65535 || host.empty()) return false;
  std::optional<std::string> ip = IpBytes(host);
  std::string name = Lower(DropRootDot(host));
  for (const Pattern& p : patterns_) {
    if (p.port != 0 && p.port != port) continue;
    switch (p.kind) {
      case Kind::kIp:
        if (ip && *ip == p.host) return true;
        break;
      case Kind::kExact:
        if (!ip && name == p.host) return true;
        break;
      case Kind::kSuffix:
        if (!ip && name.size() > p.host.size() && name.ends_with(p.host)) return true;
        break;
    }
  }
  return false;
}

}  // namespace outpost::netproxy
