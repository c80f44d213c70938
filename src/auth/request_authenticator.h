// RequestAuthenticator: the http::Authenticator of `outpost serve` — the one place a request's
// credentials are read and judged (http/access.h describes the pipeline).
//
// Credentials: `Authorization: Bearer <key>`, else `X-API-Key: <key>`.
//
// Modes:
//  - API keys (at least one key exists in the store, in any status): every route but kPublic
//    needs a valid key — also on loopback. kOptional routes take a valid key's tenant and treat
//    anything else as anonymous.
//  - Open (no key exists; only when `allow_open`: loopback, or --insecure): requests need no
//    key and act as tenant "default" with every scope. A valid key, if one is presented (the
//    moments after the first key was created), is honoured as itself. Without `allow_open` a
//    store without keys refuses everything (serve refuses to start that way; this covers a
//    store emptied behind its back).
//
// Answers: 401 AUTHENTICATION_ERROR with the one message "missing or invalid API key" whatever
// the reason (missing, malformed, unknown, revoked, expired, tenant suspended), so a caller
// cannot probe which keys exist; the reason goes to the server log with the key's display
// prefix. 403 AUTHORIZATION_ERROR with details.requiredScope when the key lacks the route's
// scope (`admin` holds every scope). 503 when the key store cannot be read.
//
// /metrics (Access::Metrics): a key with `admin`, or the operator's metrics token sent as a
// Bearer token or X-API-Key, compared in constant time.
//
// Thread-safe.
#pragma once

#include <string>

#include "auth/key_verifier.h"
#include "http/access.h"
#include "http/http_types.h"

namespace outpost::auth {

struct AuthenticatorOptions {
  bool allow_open = false;    // open mode permitted: a loopback listener, or --insecure
  std::string metrics_token;  // "" = none
};

class RequestAuthenticator final : public http::Authenticator {
 public:
  // `verifier` must outlive this.
  RequestAuthenticator(KeyVerifier& verifier, AuthenticatorOptions options)
      : verifier_(verifier), options_(std::move(options)) {}

  Status Authenticate(const http::Request& req, const http::Access& access,
                      http::Identity* identity) override;

 private:
  Status Refuse(const http::Request& req, std::string_view why, std::string_view key) const;

  KeyVerifier& verifier_;
  const AuthenticatorOptions options_;
};

// The credential a request presents ("" when none): the Bearer token of Authorization, else
// X-API-Key, trimmed.
std::string PresentedCredential(const http::Request& req);

// The one 401 every refusal answers.
Status AuthenticationRequired();

}  // namespace outpost::auth
