// SqliteAuthStore: tenants and API keys in the SQLite file of the run store (store/auth_store.h
// for the contract; the tables are a migration step of sqlite_schema.cc).
//
// It opens a connection of its own to the file (WAL: it never blocks the run store's readers),
// so `outpost admin` can change keys while `outpost serve` runs on the same file; every write is
// one statement (its own transaction) and waits up to `busy_timeout` for another writer.
//
// Thread-safety: every method may be called from any thread; calls are serialized on one
// connection under a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "store/auth_store.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost {

class SqliteAuthStore final : public AuthStore {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema. Errors as
  // SqliteRunStore::Open.
  static Result<std::unique_ptr<SqliteAuthStore>> Open(const std::string& path,
                                                       Millis busy_timeout = Millis(5000));

  Status CreateTenant(const Tenant& tenant) override;
  Result<Tenant> GetTenant(const std::string& id) override;
  Result<std::vector<Tenant>> ListTenants() override;
  Result<Tenant> SetTenantStatus(const std::string& id, TenantStatus status) override;

  Status CreateKey(const ApiKeyRecord& key) override;
  Result<ApiKeyRecord> GetKey(const std::string& key_id) override;
  Result<std::optional<ApiKeyRecord>> FindKeyByHash(const std::string& hash) override;
  Result<std::vector<ApiKeyRecord>> ListKeys(const std::optional<std::string>& tenant) override;
  Result<ApiKeyRecord> RevokeKey(const std::string& key_id, WallTime at) override;
  Status RecordUsage(const std::string& key_id, WallTime last_used, std::int64_t uses) override;
  Result<bool> AnyKeys() override;

 private:
  explicit SqliteAuthStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}

  Result<std::vector<Tenant>> QueryTenants(const std::string& sql,
                                           const std::vector<sqlite::Param>& params);
  Result<std::vector<ApiKeyRecord>> QueryKeys(const std::string& sql,
                                              const std::vector<sqlite::Param>& params);
  Status Exec(const std::string& sql, const std::vector<sqlite::Param>& params,
              std::string_view what);

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;  // guarded by mu_
};

}  // namespace outpost
