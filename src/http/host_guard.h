// Which names this server answers to, against DNS rebinding and cross-site requests (README
// "Security model", security audit F4).
//
// A web page of another site can make the browser talk to a loopback server in two ways: a
// cross-site request (the page's Origin, a "simple" POST that needs no preflight), or DNS
// rebinding (its own name resolves to 127.0.0.1, so the page is same-origin with us and the
// request carries `Host: <its name>`). Open mode answers both without a key, so there every
// request must name us: Host (and Origin, when sent) must be one of AllowedHosts.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/router.h"

namespace outpost::http {

// The names requests may carry in Host and Origin:
//   - localhost, 127.0.0.1 and [::1] with the listening port, and the listen address itself
//     (not 0.0.0.0 / [::], which no client names);
//   - public_url's host and port (its scheme's default port when it names none);
//   - each of allowed_hosts: "name" (any port) or "name:port".
// Names compare case-insensitively; a Host without a port means its scheme's default (80 for
// a Host header, which has no scheme, or 443), an Origin without one its scheme's. An Origin on
// a loopback name is allowed with any port: a page there was served by a local process (the
// MCP inspector), which reaches the server anyway, and no rebound name has such an origin.
// Thread-safe: SetBound happens once, before requests are served; matching only reads.
class AllowedHosts {
 public:
  // kInvalidArgument naming the entry for one that is not "name" or "name:port" (a DNS name,
  // an IPv4 literal or a bracketed IPv6 literal; no scheme, path or wildcard).
  static Result<std::shared_ptr<AllowedHosts>> Make(const std::vector<std::string>& allowed_hosts,
                                                    const std::string& public_url);
  // The bound listener ("127.0.0.1", 8080), once known (the port may have been 0).
  void SetBound(const std::string& host, int port);

  bool HostAllowed(std::string_view host_header) const;
  // `origin` is "scheme://host[:port]" (what browsers send); "null" and other schemes: false.
  bool OriginAllowed(std::string_view origin) const;

 private:
  struct Entry {
    std::string name;  // lower case; IPv6 in brackets
    int port = -1;     // -1: any
  };
  bool Matches(std::string_view name, std::optional<int> port, bool https) const;

  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_
};

// Checks an entry of allowed_hosts (config validation), as AllowedHosts::Make does.
Status CheckAllowedHost(std::string_view entry);

// A Router middleware, for requests that act in open mode (Identity::IsOpen: no keys exist):
//   - a Host that is not allowed: 421 MISDIRECTED_REQUEST;
//   - an Origin header that is not allowed: 403 FORBIDDEN_ORIGIN;
//   - a POST without Content-Type: application/json: 415 UNSUPPORTED_MEDIA_TYPE (a cross-site
//     form or simple fetch cannot send that type without a CORS preflight, which we never
//     answer).
// Requests with a key are left alone: nothing ambient authenticates them, so a cross-site page
// cannot act through them. `hosts` must outlive the router.
Middleware SameOriginMiddleware(std::shared_ptr<const AllowedHosts> hosts, const Clock& clock);

}  // namespace outpost::http
