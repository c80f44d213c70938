// AdminService: the administration of tenants and API keys behind `outpost admin` — validation
// and the records' creation; the CLI adapter (app/admin_command.h) parses and formats only.
//
// Keys are generated here (auth/api_key.h) and returned once in CreatedKey::key; only their
// hash is stored. Errors: kInvalidArgument naming the field (name, scopes, expiresAt, ...),
// kNotFound (no such tenant or key), kConflict (a tenant name in use), kFailedPrecondition (a
// key for a suspended tenant), and the store's own (kUnavailable).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/auth_store.h"

namespace outpost::auth {

// Scopes of a key created without --scopes: everything but admin.
const std::vector<std::string>& DefaultKeyScopes();

struct KeyRequest {
  std::string tenant;
  std::optional<std::vector<std::string>> scopes;  // nullopt: DefaultKeyScopes()
  std::string name;
  std::optional<WallTime> expires_at;
};

struct CreatedKey {
  ApiKeyRecord record;
  std::string key;  // the key itself: show it once, it is stored nowhere
};

class AdminService {
 public:
  AdminService(AuthStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // `name`: 1-100 characters, no control characters, not another tenant's name.
  Result<Tenant> CreateTenant(const std::string& name);
  Result<std::vector<Tenant>> ListTenants();
  // Its keys stop working within the verifier's cache TTL (key_verifier.h).
  Result<Tenant> SuspendTenant(const std::string& id);
  Result<Tenant> ActivateTenant(const std::string& id);

  Result<CreatedKey> CreateKey(const KeyRequest& request);
  // A tenant given must exist.
  Result<std::vector<ApiKeyRecord>> ListKeys(const std::optional<std::string>& tenant);
  Result<ApiKeyRecord> RevokeKey(const std::string& key_id);

  // Told of every mutating call (tenant.create|suspend|activate, key.create|revoke) and its
  // outcome, for the audit log (core/auditor.h); `tenant` is the tenant acted on, or "system"
  // when none is known (a refused tenant.create). Optional; set before the first call.
  using AuditFn = std::function<void(std::string_view action, const std::string& tenant,
                                     const std::string& resource, const Status& outcome)>;
  void SetAudit(AuditFn audit) { audit_ = std::move(audit); }

 private:
  Result<Tenant> DoCreateTenant(const std::string& name);
  Result<Tenant> SetStatus(std::string_view action, const std::string& id, TenantStatus status);
  Result<CreatedKey> DoCreateKey(const KeyRequest& request);
  void Audit(std::string_view action, const std::string& tenant, const std::string& resource,
             const Status& outcome) const {
    if (audit_) audit_(action, tenant.empty() ? "system" : tenant, resource, outcome);
  }

  AuthStore& store_;
  const Clock& clock_;
  AuditFn audit_;
};

// "30d", "12h", "90m", "3600s" (a positive whole number and one unit; at most 10 years).
// kInvalidArgument naming "--expires-in" otherwise.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace outpost::auth
