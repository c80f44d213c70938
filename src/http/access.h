// Who may call a route: the access rule each route is registered with (Router::Add), the
// Identity the request pipeline establishes for it, and the Authenticator interface that decides
// (implemented by auth/request_authenticator.h; the transport knows no keys or stores).
//
// The pipeline (router.cc HandleRequest) matches the route, asks the router's Authenticator
// about the route's Access, and either answers the error it returns (401/403/503) or runs the
// handler with Request::identity set. Handlers take tenant and scopes from there only
// (api/request_context.h), never from headers of their own.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost::http {

// The scopes of ARCHITECTURE §3, and `promote`. `admin` includes every other scope.
namespace scope {
inline constexpr std::string_view kDispatch = "dispatch";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kList = "list";
inline constexpr std::string_view kCancel = "cancel";
// Push a run's changes to its repository and open a pull request (core/promoter.h).
inline constexpr std::string_view kPromote = "promote";
inline constexpr std::string_view kAdmin = "admin";
}  // namespace scope

// Every scope, in the order they are documented.
const std::vector<std::string>& AllScopes();
bool IsKnownScope(std::string_view s);

struct Access {
  enum class Kind {
    kPublic,    // no credentials looked at (health probes, the page, signed /files/ URLs)
    kOptional,  // a valid key, when given, names the tenant; without one the caller is anonymous
    kKey,       // a valid key (or open mode), holding `scope` unless it is empty
    kMetrics,   // the admin scope, or the operator's metrics token
    // /internal/v1 (the run channel): no API key is looked at (a key is useless there); the
    // route checks the run's own token itself (core/run_channel.h). The caller is anonymous.
    kRunChannel,
  };
  Kind kind = Kind::kKey;
  std::string scope;

  static Access Public() { return {Kind::kPublic, ""}; }
  static Access Optional() { return {Kind::kOptional, ""}; }
  static Access AnyKey() { return {Kind::kKey, ""}; }
  static Access Scope(std::string_view s) { return {Kind::kKey, std::string(s)}; }
  static Access Metrics() { return {Kind::kMetrics, std::string(scope::kAdmin)}; }
  static Access RunChannel() { return {Kind::kRunChannel, ""}; }
};

// The caller of a request, as the Authenticator established it.
struct Identity {
  // "default" in open mode; a key's tenant; "" for an anonymous caller (kPublic/kOptional
  // routes without a valid key), who sees no tenant's runs.
  std::string tenant;
  std::string key_id;               // "" unless a key was verified
  std::vector<std::string> scopes;  // what it may do

  bool HasScope(std::string_view s) const {
    auto has = [&](std::string_view x) {
      return std::find(scopes.begin(), scopes.end(), x) != scopes.end();
    };
    return has(s) || has(scope::kAdmin);
  }
  // Open mode: no keys exist, every request acts as tenant "default" with every scope.
  static Identity Open() { return {"default", "", AllScopes()}; }
  // Acting in open mode: a tenant without a key (Open()), not an anonymous caller.
  bool IsOpen() const { return key_id.empty() && !tenant.empty(); }
  static Identity Anonymous() { return {}; }
};

struct Request;

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Decides `req` for a route with `access`. Ok: *identity is set. Otherwise the status is
  // answered as is: kUnauthenticated (401, one message for every reason), kPermissionDenied
  // (403, details.requiredScope), kUnavailable (503: the key store did not answer).
  // Called concurrently from the server's io threads.
  virtual Status Authenticate(const Request& req, const Access& access, Identity* identity) = 0;
};

}  // namespace outpost::http
