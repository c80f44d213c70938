// The connection the SQLite stores of one file share within a process: the run store, the
// tenants-and-keys store and the audit log (`outpost serve` opens all three on one file).
//
// One connection rather than one each, because SQLite lets one connection of a file write at a
// time and makes the others wait in its busy handler, which sleeps (1 ms, 2 ms, 5 ms, …) before
// it looks again: an audit append racing the supervisor's RUNNING update cost milliseconds of
// every dispatch. On one connection they queue on `mu` for the microseconds a write takes, and a
// write to the audit or keys tables does not invalidate the run store's read cache (PRAGMA
// data_version counts only other connections' commits). Other processes (`outpost admin`, a
// second replica) still use connections of their own and the busy timeout.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost::sqlite {

struct Connection {
  std::mutex mu;
  std::unique_ptr<Db> db;  // guarded by mu, as are the statements and transactions made from it
};

struct ConnectionOptions {
  Millis busy_timeout{5000};      // how long to wait for another process's write lock
  bool synchronous_full = false;  // FULL: durable even on power loss, slower commits
};

// Opens (creating when absent) the database at `path` in WAL mode (readers see a snapshot and
// never block the writer; synchronous NORMAL loses at most the last commits on power loss, never
// corrupts) and migrates its schema. kFailedPrecondition: not a database, read-only, or written
// by a newer binary; kUnavailable: busy or an I/O error.
Result<std::shared_ptr<Connection>> OpenConnection(const std::string& path,
                                                   const ConnectionOptions& options = {});

}  // namespace outpost::sqlite
