#include "net/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace outpost::net {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string Lookup(const EnvMap& env, const std::string& lower, const std::string& upper) {
  if (auto it = env.find(lower); it != env.end() && !it->second.empty()) return it->second;
  if (auto it = env.find(upper); it != env.end() && !it->second.empty()) return it->second;
  return "";
}

Status ParseHostPort(std::string_view authority, Url& url) {
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unterminated IPv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return InvalidArgument("junk after IPv6 address");
      port_text = rest.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return InvalidArgument("empty host");
  if (port_text.empty()) return Status::Ok();
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return InvalidArgument("bad port '" + std::string(port_text) + "'");
  }
  url.port = static_cast<std::uint16_t>(port);
  return Status::Ok();
}

}  // namespace

std::string Url::Authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (tls() && port == 443) || (!tls() && port == 80);
  return default_port ? h : h + ":" + std::to_string(port);
}

std::string Url::ToString() const { return scheme + "://" + HostHeader() + path; }

Result<Url> ParseUrl(std::string_view text) {
  std::string t = Trim(text);
  auto sep = t.find("://");
  if (sep == std::string::npos) return InvalidArgument("URL '" + t + "' has no scheme");
  Url url;
  url.scheme = Lower(t.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgument("URL '" + t + "': unsupported scheme '" + url.scheme + "'");
  }
  std::string_view rest = std::string_view(t).substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("URL '" + t + "' must not have a query or fragment");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo is not supported; never sent anywhere
  }
  url.port = url.tls() ? 443 : 80;
  if (Status st = ParseHostPort(authority, url); !st.ok()) {
    return InvalidArgument("URL '" + t + "': " + st.message());
  }
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return url;
}

Result<Url> JoinUrl(std::string_view base, std::string_view suffix) {
  auto url = ParseUrl(base);
  if (!url.ok()) return url.status();
  std::string path = url->path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  while (!suffix.empty() && suffix.front() == '/') suffix.remove_prefix(1);
  url->path = path + "/" + std::string(suffix);
  return url;
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host) {
  std::string h = Lower(host);
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    auto comma = no_proxy.find(',', start);
    std::string entry = Lower(Trim(no_proxy.substr(start, comma - start)));
    start = comma == std::string_view::npos ? no_proxy.size() + 1 : comma + 1;
    if (auto colon = entry.rfind(':'); colon != std::string::npos && entry.find(':') == colon) {
      entry.resize(colon);  // "host:port" entries: match on the host
    }
    while (entry.starts_with('.') || entry.starts_with('*')) {
      if (entry == "*") return true;
      entry.erase(0, 1);
    }
    if (entry.empty()) continue;
    if (h == entry) return true;
    if (h.size() > entry.size() && h.ends_with(entry) && h[h.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

Result<std::optional<Url>> ProxyFor(const Url& target, const EnvMap& env) {
  std::string proxy = target.tls() ? Lookup(env, "https_proxy", "HTTPS_PROXY")
                                   : Lookup(env, "http_proxy", "HTTP_PROXY");
  if (proxy.empty()) return std::optional<Url>();
  if (NoProxyMatches(Lookup(env, "no_proxy", "NO_PROXY"), target.host)) {
    return std::optional<Url>();
  }
  if (proxy.find("://") == std::string::npos) proxy = "http://" + proxy;
  auto url = ParseUrl(proxy);
  if (!url.ok()) return InvalidArgument("proxy: " + url.status().message());
  if (url->tls())
    return InvalidArgument("proxy '" + proxy + "': only http:// proxies are supported");
  return std::optional<Url>(*url);
}

}  // namespace outpost::net
