#include "auth/admin_service.h"

#include <algorithm>
#include <charconv>

#include "auth/api_key.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "http/access.h"

namespace outpost::auth {
namespace {

constexpr std::size_t kMaxName = 100;
constexpr std::chrono::seconds kMaxLifetime{10LL * 366 * 24 * 3600};

bool HasControlCharacters(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

Status CheckLabel(std::string_view field, std::string_view value, bool allow_empty) {
  if (value.empty() && !allow_empty) return Status::Invalid({{std::string(field), "is required"}});
  if (value.size() > kMaxName) {
    return Status::Invalid({{std::string(field), "must be at most 100 characters"}});
  }
  if (HasControlCharacters(value)) {
    return Status::Invalid({{std::string(field), "must not contain control characters"}});
  }
  return Status::Ok();
}

// Records keep whole milliseconds; what is returned is what a later read gives.
WallTime WholeMillis(WallTime t) { return FromMillis(ToMillis(t)); }

// Open mode's tenant (http::Identity::Open): a real tenant too, made on its first key.
constexpr std::string_view kDefaultTenant = "default";

Status TenantIdSyntax(std::string_view id) {
  if (!IsUlid(id) && id != kDefaultTenant) {
    return Status::Invalid({{"tenant", "tenant ids are 26-character ULIDs (or default)"}});
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& DefaultKeyScopes() {
  static const std::vector<std::string> kDefault = {
      std::string(http::scope::kDispatch), std::string(http::scope::kStatus),
      std::string(http::scope::kList), std::string(http::scope::kCancel)};
  return kDefault;
}

Result<Tenant> AdminService::CreateTenant(const std::string& name) {
  Result<Tenant> t = DoCreateTenant(name);
  Audit("tenant.create", t.ok() ? t->id : "", t.ok() ? "tenant:" + t->id : "tenants", t.status());
  return t;
}

Result<Tenant> AdminService::DoCreateTenant(const std::string& name) {
  OUTPOST_RETURN_IF_ERROR(CheckLabel("name", name, /*allow_empty=*/false));
  if (name == kDefaultTenant) {
    return Status::Invalid({{"name",
                             "default is open mode's tenant, made with its first key "
                             "(key create --tenant default); choose another name"}});
  }
  // Names are labels for humans; two alike would be confused, so one is refused. (A check, not
  // a constraint: two admins creating the same name at the same instant could both succeed.)
  auto existing = store_.ListTenants();
  if (!existing.ok()) return existing.status();
  for (const Tenant& t : *existing) {
    if (t.name == name) {
      return Conflict("a tenant named '" + name + "' already exists: " + t.id)
          .WithDetail("tenantId", boost::json::value(t.id));
    }
  }
  const WallTime now = clock_.Now();
  Tenant t{NewUlid(now), name, TenantStatus::kActive, WholeMillis(now)};
  OUTPOST_RETURN_IF_ERROR(store_.CreateTenant(t));
  spdlog::info("admin: tenant {} ({}) created", t.id, t.name);
  return t;
}

Result<std::vector<Tenant>> AdminService::ListTenants() { return store_.ListTenants(); }

Result<Tenant> AdminService::SuspendTenant(const std::string& id) {
  return SetStatus("tenant.suspend", id, TenantStatus::kSuspended);
}

Result<Tenant> AdminService::ActivateTenant(const std::string& id) {
  return SetStatus("tenant.activate", id, TenantStatus::kActive);
}

Result<Tenant> AdminService::SetStatus(std::string_view action, const std::string& id,
                                       TenantStatus status) {
  Status valid = TenantIdSyntax(id);
  Result<Tenant> t = valid.ok() ? store_.SetTenantStatus(id, status) : Result<Tenant>(valid);
  Audit(action, valid.ok() ? id : "", "tenant:" + id, t.status());
  return t;
}

Result<CreatedKey> AdminService::CreateKey(const KeyRequest& request) {
  Result<CreatedKey> k = DoCreateKey(request);
  const bool known = k.ok() || TenantIdSyntax(request.tenant).ok();
  Audit("key.create", known ? request.tenant : "", k.ok() ? "key:" + k->record.key_id : "keys",
        k.status());
  return k;
}

Result<CreatedKey> AdminService::DoCreateKey(const KeyRequest& request) {
  OUTPOST_RETURN_IF_ERROR(TenantIdSyntax(request.tenant));
  OUTPOST_RETURN_IF_ERROR(CheckLabel("name", request.name, /*allow_empty=*/true));
  const WallTime now = clock_.Now();
  if (request.expires_at && *request.expires_at <= now) {
    return Status::Invalid({{"expiresAt", "must be in the future"}});
  }
  if (request.expires_at && *request.expires_at - now > kMaxLifetime) {
    return Status::Invalid({{"expiresAt", "must be at most 10 years ahead"}});
  }
  std::vector<std::string> scopes = request.scopes.value_or(DefaultKeyScopes());
  if (scopes.empty()) return Status::Invalid({{"scopes", "at least one scope is required"}});
  for (const auto& s : scopes) {
    if (!http::IsKnownScope(s)) return Status::Invalid({{"scopes", "unknown scope '" + s + "'"}});
  }
  auto tenant = store_.GetTenant(request.tenant);
  if (!tenant.ok() && tenant.status().code() == Code::kNotFound &&
      request.tenant == kDefaultTenant) {
    // The open-mode runs' tenant gets its record with its first key.
    Tenant t{std::string(kDefaultTenant), std::string(kDefaultTenant), TenantStatus::kActive,
             WholeMillis(now)};
    Status made = store_.CreateTenant(t);
    Audit("tenant.create", t.id, "tenant:" + t.id, made);
    if (!made.ok() && made.code() != Code::kConflict) return made;
    tenant = store_.GetTenant(request.tenant);
  }
  if (!tenant.ok()) return tenant.status();
  if (tenant->status != TenantStatus::kActive) {
    return FailedPrecondition("tenant " + tenant->id + " is suspended; activate it first");
  }
  CreatedKey out;
  out.key = GenerateApiKey();
  ApiKeyRecord& k = out.record;
  k.key_id = NewUlid(now);
  k.tenant = tenant->id;
  k.name = request.name;
  k.prefix = DisplayPrefix(out.key);
  k.hash = Sha256Hex(out.key);
  k.scopes = std::move(scopes);
  k.created_at = WholeMillis(now);
  if (request.expires_at) k.expires_at = WholeMillis(*request.expires_at);
  OUTPOST_RETURN_IF_ERROR(store_.CreateKey(k));
  spdlog::info("admin: API key {} ({}…) created for tenant {}", k.key_id, k.prefix, k.tenant);
  return out;
}

Result<std::vector<ApiKeyRecord>> AdminService::ListKeys(const std::optional<std::string>& tenant) {
  if (tenant) {
    OUTPOST_RETURN_IF_ERROR(TenantIdSyntax(*tenant));
    auto t = store_.GetTenant(*tenant);
    if (!t.ok() && !(*tenant == kDefaultTenant && t.status().code() == Code::kNotFound)) {
      return t.status();
    }
  }
  return store_.ListKeys(tenant);
}

Result<ApiKeyRecord> AdminService::RevokeKey(const std::string& key_id) {
  if (!IsUlid(key_id)) return Status::Invalid({{"keyId", "key ids are 26-character ULIDs"}});
  auto k = store_.RevokeKey(key_id, WholeMillis(clock_.Now()));
  if (k.ok()) spdlog::info("admin: API key {} revoked", key_id);
  Audit("key.revoke", k.ok() ? k->tenant : "", "key:" + key_id, k.status());
  return k;
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [] {
    return Status::Invalid(
        {{"--expires-in", "must be a positive whole number with a unit: 90m, 12h, 30d or 3600s"}});
  };
  if (text.size() < 2) return bad();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || n <= 0) return bad();
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return bad();
  }
  if (n > kMaxLifetime.count() / unit) {
    return Status::Invalid({{"--expires-in", "must be at most 10 years"}});
  }
  return std::chrono::seconds(n * unit);
}

}  // namespace outpost::auth
