// SqliteAuditLog: the audit log (store/audit_log.h) as the `audit` table of the SQLite run store's
// file (schema in sqlite_schema.cc), on a connection of its own.
//
// A second connection to the same WAL file: appends wait for the run store's write lock (and it
// for theirs) up to the busy timeout, so an audit write never interleaves with half a run
// write; reads never block. List uses the (tenant, id) index for one tenant's records.
//
// Thread-safety: all methods may be called from any thread (one connection under a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/audit_log.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost {

class SqliteAuditLog final : public AuditLog {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema, as
  // SqliteRunStore::Open does. Errors as there.
  static Result<std::unique_ptr<SqliteAuditLog>> Open(const std::string& path,
                                                      Millis busy_timeout = Millis(5000));

  Status Append(const AuditRecord& record) override;
  Result<AuditPage> List(const AuditQuery& query) override;
  Result<int> Prune(WallTime before) override;

 private:
  explicit SqliteAuditLog(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;  // guarded by mu_
};

}  // namespace outpost
