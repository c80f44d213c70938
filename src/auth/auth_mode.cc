#include "auth/auth_mode.h"

#include <arpa/inet.h>

#include <string>

namespace outpost::auth {

bool IsLoopbackHost(std::string_view host_in) {
  std::string host(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

AuthModeReport DescribeAuthMode(KeyVerifier& verifier, bool loopback) {
  AuthModeReport r;
  auto exist = verifier.KeysExist();
  if (!exist.ok()) {
    r.check = {{"status", "warn"},
               {"mode", "unknown"},
               {"message", "cannot read the API keys: " + exist.status().message()}};
  } else if (*exist) {
    r.check = {{"status", "pass"},
               {"mode", "api-keys"},
               {"message", "every request but health probes needs an API key"}};
  } else if (loopback) {
    r.check = {{"status", "pass"},
               {"mode", "open"},
               {"message", "no API keys exist: unauthenticated requests are accepted on loopback"}};
  } else {
    r.insecure = true;
    r.check = {{"status", "warn"},
               {"mode", "open"},
               {"message",
                "INSECURE: no API keys exist and the server listens beyond loopback (--insecure): "
                "anyone who reaches it may do anything"}};
  }
  return r;
}

}  // namespace outpost::auth
