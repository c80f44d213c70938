#include "auth/request_authenticator.h"

#include "auth/api_key.h"
#include "common/log.h"
#include "common/strings.h"

namespace outpost::auth {
namespace {

http::Identity KeyIdentity(const KeyVerdict& v) { return {v.tenant, v.key_id, v.scopes}; }

Status MissingScope(std::string_view scope) {
  Status st(Code::kPermissionDenied, "API key lacks the required scope: " + std::string(scope));
  st.WithDetail("requiredScope", boost::json::value(std::string(scope)));
  return st;
}

// After the caller is known: the route's scope (admin for /metrics; admin holds every scope).
Status CheckScope(const http::Access& access, const http::Identity& identity) {
  using Kind = http::Access::Kind;
  if (access.kind == Kind::kKey && !access.scope.empty() && !identity.HasScope(access.scope)) {
    return MissingScope(access.scope);
  }
  if (access.kind == Kind::kMetrics && !identity.HasScope(http::scope::kAdmin)) {
    return MissingScope(http::scope::kAdmin);
  }
  return Status::Ok();
}

}  // namespace

std::string PresentedCredential(const http::Request& req) {
  if (auto header = req.headers.Get("Authorization")) {
    std::string_view v = Trim(*header);
    if (v.size() > 7 && http::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
      return std::string(Trim(v.substr(7)));
    }
  }
  if (auto header = req.headers.Get("X-API-Key")) return std::string(Trim(*header));
  return "";
}

Status AuthenticationRequired() {
  return Status(Code::kUnauthenticated, "missing or invalid API key");
}

Status RequestAuthenticator::Refuse(const http::Request& req, std::string_view why,
                                    std::string_view key) const {
  // info, not warn: a flood of bad keys must not turn into a flood of warnings.
  spdlog::info("auth: 401 {} {} from {} (request {}): {}{}", req.method, req.path,
               req.client_address, req.request_id, why,
               IsWellFormedApiKey(key) ? " (key " + DisplayPrefix(key) + "…)" : "");
  return AuthenticationRequired();
}

Status RequestAuthenticator::Authenticate(const http::Request& req, const http::Access& access,
                                          http::Identity* identity) {
  using Kind = http::Access::Kind;
  *identity = http::Identity::Anonymous();
  // The run channel judges its own per-run token; API keys mean nothing there.
  if (access.kind == Kind::kPublic || access.kind == Kind::kRunChannel) return Status::Ok();
  const bool optional = access.kind == Kind::kOptional;
  const std::string key = PresentedCredential(req);

  if (access.kind == Kind::kMetrics && !options_.metrics_token.empty() && !key.empty() &&
      SecretsEqual(key, options_.metrics_token)) {
    return Status::Ok();  // the token grants /metrics and nothing else
  }
  auto exist = verifier_.KeysExist();
  if (!exist.ok()) {
    if (optional) return Status::Ok();
    spdlog::error("auth: cannot tell whether API keys exist: {}", exist.status().ToString());
    return Unavailable("cannot verify API keys now; try again");
  }
  if (!*exist && !options_.allow_open) {
    return optional ? Status::Ok() : Refuse(req, "no API keys exist (open mode not allowed)", key);
  }
  if (!*exist) *identity = http::Identity::Open();
  if (key.empty()) {
    if (*exist && !optional) return Refuse(req, "no API key presented", key);
  } else {
    auto verdict = verifier_.Verify(key);
    if (!verdict.ok()) {
      if (optional || !*exist) return Status::Ok();  // anonymous / open: still served
      spdlog::error("auth: cannot verify an API key: {}", verdict.status().ToString());
      return Unavailable("cannot verify API keys now; try again");
    }
    if (verdict->check == KeyCheck::kOk) {
      *identity = KeyIdentity(*verdict);
    } else if (*exist && !optional) {
      return Refuse(req, ToString(verdict->check), key);
    }
  }
  return CheckScope(access, *identity);
}

}  // namespace outpost::auth
