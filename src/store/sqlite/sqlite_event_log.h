// SqliteEventLog: the event log (store/event_log.h) as the `run_events` table of the SQLite run
// store's file (schema in sqlite_schema.cc). A row is an item: the events of one append from
// first_seq to last_seq (at most kMaxItemBytes of json, or one event), one "<type>\t<json>"
// line each. An append is one IMMEDIATE transaction: another process's append to the same run
// waits for it (busy timeout) and then sees its events.
//
// Thread-safety: all methods may be called from any thread (one connection under a mutex).
#pragma once

#include <memory>
#include <string>

#include "store/event_log.h"
#include "store/sqlite/sqlite_connection.h"

namespace outpost {

class SqliteEventLog final : public EventLog {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema, as
  // SqliteRunStore::Open does. Errors as there.
  static Result<std::unique_ptr<SqliteEventLog>> Open(const std::string& path,
                                                      Millis busy_timeout = Millis(5000));
  // On an open connection, shared with the file's other stores (sqlite_connection.h).
  explicit SqliteEventLog(std::shared_ptr<sqlite::Connection> conn)
      : conn_(std::move(conn)), db_(conn_->db.get()) {}

  Result<EventAppend> Append(std::string_view run_id, const std::vector<RunEvent>& events) override;
  Result<EventBatch> Read(std::string_view run_id, std::int64_t after, int limit,
                          std::size_t max_bytes = 1 << 20) override;
  Result<EventLogTail> Tail(std::string_view run_id) override;
  Status Remove(std::string_view run_id) override;

 private:
  // Callers hold conn_->mu.
  Result<EventLogTail> TailLocked(const std::string& run_id);
  Result<EventBatch> ReadLocked(const std::string& run_id, std::int64_t after, int limit,
                                std::size_t max_bytes);

  std::shared_ptr<sqlite::Connection> conn_;
  sqlite::Db* db_;  // conn_->db, guarded by conn_->mu
};

}  // namespace outpost
