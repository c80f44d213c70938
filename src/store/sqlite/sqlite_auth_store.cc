#include "store/sqlite/sqlite_auth_store.h"

#include <mutex>

#include "common/time_util.h"

namespace outpost {
namespace {

using sqlite::Param;

constexpr const char* kTenantColumns = "SELECT id, name, status, created_ms FROM tenants";
constexpr const char* kKeyColumns =
    "SELECT key_id, tenant, name, prefix, hash, scopes, status, created_ms, expires_ms, "
    "revoked_ms, last_used_ms, use_count FROM api_keys";

Param OptMillis(const std::optional<WallTime>& t) {
  return t ? Param(ToMillis(*t)) : Param(std::monostate{});
}

std::optional<WallTime> OptTime(const sqlite::Stmt& stmt, int col) {
  if (stmt.IsNull(col)) return std::nullopt;
  return FromMillis(stmt.Int(col));
}

// Scopes are stored comma-joined: they are words from a fixed list (auth/api_key.h).
std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> SplitScopes(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    auto comma = joined.find(',');
    out.emplace_back(joined.substr(0, comma));
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteAuthStore>> SqliteAuthStore::Open(const std::string& path,
                                                               Millis busy_timeout) {
  OUTPOST_ASSIGN_OR_RETURN(auto conn, sqlite::OpenConnection(path, {busy_timeout, false}));
  return std::make_unique<SqliteAuthStore>(std::move(conn));
}

Status SqliteAuthStore::Exec(const std::string& sql, const std::vector<Param>& params,
                             std::string_view what) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  return stmt.Run(what);
}

Result<std::vector<Tenant>> SqliteAuthStore::QueryTenants(const std::string& sql,
                                                          const std::vector<Param>& params) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  std::vector<Tenant> out;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("read tenants"));
    if (!row) return out;
    auto status = ParseTenantStatus(stmt.Text(2));
    if (!status) return Internal("corrupt tenant status in the auth store");
    out.push_back({stmt.Text(0), stmt.Text(1), *status, FromMillis(stmt.Int(3))});
  }
}

Result<std::vector<ApiKeyRecord>> SqliteAuthStore::QueryKeys(const std::string& sql,
                                                             const std::vector<Param>& params) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  std::vector<ApiKeyRecord> out;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("read API keys"));
    if (!row) return out;
    auto status = ParseKeyStatus(stmt.Text(6));
    if (!status) return Internal("corrupt API key status in the auth store");
    ApiKeyRecord k;
    k.key_id = stmt.Text(0);
    k.tenant = stmt.Text(1);
    k.name = stmt.Text(2);
    k.prefix = stmt.Text(3);
    k.hash = stmt.Text(4);
    k.scopes = SplitScopes(stmt.Text(5));
    k.status = *status;
    k.created_at = FromMillis(stmt.Int(7));
    k.expires_at = OptTime(stmt, 8);
    k.revoked_at = OptTime(stmt, 9);
    k.last_used_at = OptTime(stmt, 10);
    k.use_count = stmt.Int(11);
    out.push_back(std::move(k));
  }
}

Status SqliteAuthStore::CreateTenant(const Tenant& t) {
  std::lock_guard lock(conn_->mu);
  Status st = Exec("INSERT INTO tenants (id, name, status, created_ms) VALUES (?1, ?2, ?3, ?4)",
                   {t.id, t.name, std::string(ToString(t.status)), ToMillis(t.created_at)},
                   "insert tenant");
  if (st.code() == Code::kConflict) return Conflict("tenant " + t.id + " already exists");
  return st;
}

Result<Tenant> SqliteAuthStore::GetTenant(const std::string& id) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto rows,
                           QueryTenants(std::string(kTenantColumns) + " WHERE id = ?1", {id}));
  if (rows.empty()) return NotFound("no tenant " + id);
  return std::move(rows.front());
}

Result<std::vector<Tenant>> SqliteAuthStore::ListTenants() {
  std::lock_guard lock(conn_->mu);
  return QueryTenants(std::string(kTenantColumns) + " ORDER BY id", {});
}

Result<Tenant> SqliteAuthStore::SetTenantStatus(const std::string& id, TenantStatus status) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_RETURN_IF_ERROR(Exec("UPDATE tenants SET status = ?2 WHERE id = ?1",
                               {id, std::string(ToString(status))}, "update tenant"));
  if (db_->Changes() == 0) return NotFound("no tenant " + id);
  OUTPOST_ASSIGN_OR_RETURN(auto rows,
                           QueryTenants(std::string(kTenantColumns) + " WHERE id = ?1", {id}));
  if (rows.empty()) return NotFound("no tenant " + id);
  return std::move(rows.front());
}

Status SqliteAuthStore::CreateKey(const ApiKeyRecord& k) {
  std::lock_guard lock(conn_->mu);
  Status st = Exec(
      "INSERT INTO api_keys (key_id, tenant, name, prefix, hash, scopes, status, created_ms, "
      "expires_ms, revoked_ms, last_used_ms, use_count) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
      {k.key_id, k.tenant, k.name, k.prefix, k.hash, JoinScopes(k.scopes),
       std::string(ToString(k.status)), ToMillis(k.created_at), OptMillis(k.expires_at),
       OptMillis(k.revoked_at), OptMillis(k.last_used_at), k.use_count},
      "insert API key");
  // The hash is unique too; two keys with one hash would mean a broken generator.
  if (st.code() == Code::kConflict) return Conflict("API key " + k.key_id + " already exists");
  return st;
}

Result<ApiKeyRecord> SqliteAuthStore::GetKey(const std::string& key_id) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto rows,
                           QueryKeys(std::string(kKeyColumns) + " WHERE key_id = ?1", {key_id}));
  if (rows.empty()) return NotFound("no API key " + key_id);
  return std::move(rows.front());
}

Result<std::optional<ApiKeyRecord>> SqliteAuthStore::FindKeyByHash(const std::string& hash) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto rows,
                           QueryKeys(std::string(kKeyColumns) + " WHERE hash = ?1", {hash}));
  if (rows.empty()) return std::optional<ApiKeyRecord>();
  return std::optional<ApiKeyRecord>(std::move(rows.front()));
}

Result<std::vector<ApiKeyRecord>> SqliteAuthStore::ListKeys(
    const std::optional<std::string>& tenant) {
  std::lock_guard lock(conn_->mu);
  if (tenant)
    return QueryKeys(std::string(kKeyColumns) + " WHERE tenant = ?1 ORDER BY key_id", {*tenant});
  return QueryKeys(std::string(kKeyColumns) + " ORDER BY key_id", {});
}

Result<ApiKeyRecord> SqliteAuthStore::RevokeKey(const std::string& key_id, WallTime at) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_RETURN_IF_ERROR(
      Exec("UPDATE api_keys SET status = 'revoked', revoked_ms = COALESCE(revoked_ms, ?2) "
           "WHERE key_id = ?1",
           {key_id, ToMillis(at)}, "revoke API key"));
  OUTPOST_ASSIGN_OR_RETURN(auto rows,
                           QueryKeys(std::string(kKeyColumns) + " WHERE key_id = ?1", {key_id}));
  if (rows.empty()) return NotFound("no API key " + key_id);
  return std::move(rows.front());
}

Status SqliteAuthStore::RecordUsage(const std::string& key_id, WallTime last_used,
                                    std::int64_t uses) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_RETURN_IF_ERROR(
      Exec("UPDATE api_keys SET use_count = use_count + ?2, "
           "last_used_ms = MAX(COALESCE(last_used_ms, ?3), ?3) WHERE key_id = ?1",
           {key_id, uses, ToMillis(last_used)}, "record API key usage"));
  if (db_->Changes() == 0) return NotFound("no API key " + key_id);
  return Status::Ok();
}

Result<bool> SqliteAuthStore::AnyKeys() {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT EXISTS (SELECT 1 FROM api_keys)"));
  OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("look for API keys"));
  return row && stmt.Int(0) != 0;
}

}  // namespace outpost
