// SqliteAuthStore: tenants and API keys in the SQLite file of the run store (store/auth_store.h
// for the contract; the tables are a migration step of sqlite_schema.cc).
//
// `outpost serve` runs it on the run store's connection (sqlite_connection.h); `outpost admin`
// opens a connection of its own to the file (WAL: it never blocks the server's readers), so keys
// can change while the server runs; every write is one statement (its own transaction) and waits
// up to `busy_timeout` for another process's writer.
//
// Thread-safety: every method may be called from any thread; calls are serialized on one
// connection under a mutex.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "store/auth_store.h"
#include "store/sqlite/sqlite_connection.h"

namespace outpost {

class SqliteAuthStore final : public AuthStore {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema. Errors as
  // SqliteRunStore::Open.
  static Result<std::unique_ptr<SqliteAuthStore>> Open(const std::string& path,
                                                       Millis busy_timeout = Millis(5000));
  // On an open connection, shared with the file\'s other stores (sqlite_connection.h).
  explicit SqliteAuthStore(std::shared_ptr<sqlite::Connection> conn)
      : conn_(std::move(conn)), db_(conn_->db.get()) {}

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
  Result<std::vector<Tenant>> QueryTenants(const std::string& sql,
                                           const std::vector<sqlite::Param>& params);
  Result<std::vector<ApiKeyRecord>> QueryKeys(const std::string& sql,
                                              const std::vector<sqlite::Param>& params);
  Status Exec(const std::string& sql, const std::vector<sqlite::Param>& params,
              std::string_view what);

  std::shared_ptr<sqlite::Connection> conn_;
  sqlite::Db* db_;  // conn_->db, guarded by conn_->mu
};

}  // namespace outpost
