#include "http/host_guard.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "http/envelope.h"
#include "http/media_type.h"

namespace outpost::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// "name", "name:port", "[v6]" or "[v6]:port" -> name (lower case) and port. nullopt when it is
// none of those (a scheme, a path, userinfo, an empty name, a port out of range).
struct Authority {
  std::string name;
  std::optional<int> port;
};

std::optional<Authority> ParseAuthority(std::string_view s) {
  Authority a;
  std::string_view rest;
  if (s.starts_with("[")) {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close < 3) return std::nullopt;
    std::string_view inside = s.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return std::nullopt;
    }
    a.name = Lower(s.substr(0, close + 1));
    rest = s.substr(close + 1);
  } else {
    std::size_t colon = s.find(':');
    std::string_view name = s.substr(0, colon);
    if (name.empty() || name.front() == '.' || name.back() == '.' ||
        !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return std::nullopt;
    }
    a.name = Lower(name);
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
  }
  if (rest.empty()) return a;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
  int port = 0;
  auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), port);
  if (ec != std::errc() || p != rest.data() + rest.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  a.port = port;
  return a;
}

// "scheme://authority" with nothing after it -> (https?, authority).
std::optional<std::pair<bool, Authority>> ParseOrigin(std::string_view origin) {
  bool https = false;
  std::string lower = Lower(origin.substr(0, 8));
  if (lower.starts_with("http://")) {
    origin.remove_prefix(7);
  } else if (lower.starts_with("https://")) {
    origin.remove_prefix(8);
    https = true;
  } else {
    return std::nullopt;
  }
  auto a = ParseAuthority(origin);
  if (!a) return std::nullopt;
  return std::make_pair(https, std::move(*a));
}

}  // namespace

Status CheckAllowedHost(std::string_view entry) {
  if (!ParseAuthority(entry)) {
    return InvalidArgument("allowed_hosts: \"" + std::string(entry) +
                           "\" must be a host name or address, optionally with :port (no "
                           "scheme, path or wildcard)");
  }
  return Status::Ok();
}

Result<std::shared_ptr<AllowedHosts>> AllowedHosts::Make(
    const std::vector<std::string>& allowed_hosts, const std::string& public_url) {
  auto hosts = std::make_shared<AllowedHosts>();
  for (const std::string& h : allowed_hosts) {
    OUTPOST_RETURN_IF_ERROR(CheckAllowedHost(h));
    auto a = ParseAuthority(h);
    hosts->entries_.push_back({a->name, a->port.value_or(-1)});
  }
  if (!public_url.empty()) {
    std::string_view base = public_url;
    std::size_t scheme = base.find("://");
    std::size_t path = scheme == std::string_view::npos ? scheme : base.find('/', scheme + 3);
    auto origin = ParseOrigin(base.substr(0, path));
    if (!origin) return InvalidArgument("public_url: cannot tell its host: " + public_url);
    hosts->entries_.push_back(
        {origin->second.name, origin->second.port.value_or(origin->first ? 443 : 80)});
  }
  return hosts;
}

void AllowedHosts::SetBound(const std::string& host, int port) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const char* name : {"localhost", "127.0.0.1", "[::1]"}) entries_.push_back({name, port});
  std::string bound = Lower(host);
  if (bound.find(':') != std::string::npos && !bound.starts_with("[")) bound = "[" + bound + "]";
  if (bound != "0.0.0.0" && bound != "[::]") entries_.push_back({bound, port});
}

bool AllowedHosts::Matches(std::string_view name, std::optional<int> port, bool https) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (e.name != name) return false;
    if (e.port < 0) return true;
    if (port) return *port == e.port;
    return e.port == (https ? 443 : 80);
  });
}

bool AllowedHosts::HostAllowed(std::string_view host_header) const {
  auto a = ParseAuthority(host_header);
  if (!a) return false;
  // A Host without a port names its scheme's default port, which we cannot see: 80 or 443.
  return a->port ? Matches(a->name, a->port, false)
                 : Matches(a->name, std::nullopt, false) || Matches(a->name, std::nullopt, true);
}

bool AllowedHosts::OriginAllowed(std::string_view origin) const {
  auto o = ParseOrigin(origin);
  if (!o) return false;
  // A page on a loopback origin was served by a process of this machine (the MCP inspector on
  // localhost:6274), which can reach us anyway; no rebound name ever has such an origin.
  const std::string& name = o->second.name;
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return true;
  return Matches(o->second.name, o->second.port.value_or(o->first ? 443 : 80), o->first);
}

Middleware SameOriginMiddleware(std::shared_ptr<const AllowedHosts> hosts, const Clock& clock) {
  return [hosts = std::move(hosts), &clock](Request& req, const Next& next) -> Response {
    if (!req.identity.IsOpen()) return next(req);
    const Meta meta{req.request_id, clock.Now()};
    const std::string host = req.headers.Get("Host").value_or("");
    if (!hosts->HostAllowed(host)) {
      return ErrorWithCode(421, "MISDIRECTED_REQUEST",
                           "Host '" + host +
                               "' is not a name of this server (open mode answers only its "
                               "listen address, localhost, public_url and allowed_hosts)",
                           meta);
    }
    if (auto origin = req.headers.Get("Origin"); origin && !hosts->OriginAllowed(*origin)) {
      return ErrorWithCode(
          403, "FORBIDDEN_ORIGIN",
          "Origin '" + *origin + "' is another site: open mode serves no cross-site requests",
          meta);
    }
    if (req.method == "POST" && !IsJsonContentType(req.headers.Get("Content-Type").value_or(""))) {
      return ErrorWithCode(415, kUnsupportedMediaType,
                           "in open mode a POST must be Content-Type: application/json", meta);
    }
    return next(req);
  };
}

}  // namespace outpost::http
