// SqliteAuditLog: the audit log (store/audit_log.h) as the `audit` table of the SQLite run store's
// file (schema in sqlite_schema.cc).
//
// In `outpost serve` it shares the run store's connection (sqlite_connection.h), so an append
// queues behind a run write for microseconds instead of sleeping in SQLite's busy handler; opened
// on its own (`outpost audit export`) it waits up to the busy timeout for another process's
// write lock. List uses the (tenant, id) index for one tenant's records.
//
// Thread-safety: all methods may be called from any thread (one connection under a mutex).
#pragma once

#include <memory>
#include <string>

#include "store/audit_log.h"
#include "store/sqlite/sqlite_connection.h"

namespace outpost {

class SqliteAuditLog final : public AuditLog {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema, as
  // SqliteRunStore::Open does. Errors as there.
  static Result<std::unique_ptr<SqliteAuditLog>> Open(const std::string& path,
                                                      Millis busy_timeout = Millis(5000));
  // On an open connection, shared with the file\'s other stores (sqlite_connection.h).
  explicit SqliteAuditLog(std::shared_ptr<sqlite::Connection> conn)
      : conn_(std::move(conn)), db_(conn_->db.get()) {}

  Status Append(const AuditRecord& record) override;
  Result<AuditPage> List(const AuditQuery& query) override;
  Result<int> Prune(WallTime before) override;

 private:
  std::shared_ptr<sqlite::Connection> conn_;
  sqlite::Db* db_;  // conn_->db, guarded by conn_->mu
};

}  // namespace outpost
