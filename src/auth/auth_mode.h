// Open mode's two rules: the listen address decides whether a store without keys may serve
// unauthenticated requests, and /health says which mode the server is in.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "auth/key_verifier.h"

namespace outpost::auth {

// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost". Anything else — 0.0.0.0, a
// routable address, another host name — is not loopback.
bool IsLoopbackHost(std::string_view host);

struct AuthModeReport {
  // {status: pass|warn, mode: "api-keys"|"open", message}: warn when the server is open on a
  // non-loopback address (--insecure).
  boost::json::object check;
  bool insecure = false;  // open, and reachable beyond this machine
};

// Asks `verifier` whether keys exist (cached, see key_verifier.h).
AuthModeReport DescribeAuthMode(KeyVerifier& verifier, bool loopback);

}  // namespace outpost::auth
