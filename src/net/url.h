// URLs and proxy selection for Outpost's outbound HTTP clients (the grok agent, the AWS layer).
//
// Only what those endpoints need: http/https, host (name, IPv4 or [IPv6]), port, path. Proxy
// choice follows the curl conventions the sandbox relies on: HTTPS_PROXY/https_proxy for https,
// HTTP_PROXY/http_proxy for http, NO_PROXY/no_proxy as a comma list of host suffixes ("*" = none),
// lower-case names win.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::net {

using EnvMap = std::map<std::string, std::string>;

struct Url {
  std::string scheme;  // "http" | "https"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  // Origin-form target, starts with "/". ParseUrl never yields a query; callers that build a Url
  // themselves (the AWS layer) may append "?query" here and it is sent as is.
  std::string path;

  bool tls() const { return scheme == "https"; }
  // "host:port" ("[::1]:443" for IPv6): the CONNECT target.
  std::string Authority() const;
  // Host header value: the port only when not the scheme's default.
  std::string HostHeader() const;
  // scheme://authority/path: the absolute-form target sent to an http proxy.
  std::string ToString() const;
};

// kInvalidArgument naming the problem (scheme, empty host, bad port, query/fragment).
Result<Url> ParseUrl(std::string_view text);

// `base` (e.g. https://api.x.ai/v1) + "/" + `suffix`, without doubling slashes.
Result<Url> JoinUrl(std::string_view base, std::string_view suffix);

// The proxy to use for `target`, if any; kInvalidArgument when the proxy variable is malformed.
Result<std::optional<Url>> ProxyFor(const Url& target, const EnvMap& env);

// True when NO_PROXY (`no_proxy`) excludes `host` from proxying.
bool NoProxyMatches(std::string_view no_proxy, std::string_view host);

}  // namespace outpost::net
