// SqliteRunStore: the embedded, default RunStore (see store/run_store.h for the contract).
//
// One SQLite file in WAL mode (readers never block the writer), synchronous=NORMAL by default.
// Several processes may open the same file: every write is a BEGIN IMMEDIATE transaction and
// waits up to `busy_timeout` for another connection's write lock, then fails with kUnavailable
// (retry with backoff).
//
// Admission (CreateAll): the quota counts (a tenant's or a key's PENDING+RUNNING runs, its runs
// of the UTC day) and the inserts share one IMMEDIATE transaction, so they are exact across
// threads and processes; the room a run takes is the run row itself, freed by its terminal
// status (ReleaseStaleQuota has nothing to do).
//
// Thread-safety: all methods may be called from any thread. One connection is shared under a
// mutex (with the audit log and auth store of the file: sqlite_connection.h), so calls are
// serialized; that is ample for a control plane writing a few rows per run, and keeps SQLite's
// connection-level state (transactions, cached statements) simple.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "store/run_store.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost {

struct SqliteRunStoreOptions {
  Millis busy_timeout{5000};      // how long to wait for another connection's lock
  bool synchronous_full = false;  // FULL: durable even on power loss, slower commits
};

class SqliteRunStore final : public RunStore {
 public:
  // Opens (creating when absent) the database at `path` and migrates its schema.
  // kFailedPrecondition: not a database, read-only, or written by a newer binary;
  // kUnavailable: busy or an I/O error.
  static Result<std::unique_ptr<SqliteRunStore>> Open(const std::string& path,
                                                      const SqliteRunStoreOptions& options = {});
  // On an open connection, shared with the file's other stores.
  explicit SqliteRunStore(std::shared_ptr<sqlite::Connection> conn);
  // The schema version (PRAGMA user_version) this binary migrates files to.
  static int LatestSchemaVersion();

  ~SqliteRunStore() override;

  // The connection, for the audit log and auth store of the same file.
  const std::shared_ptr<sqlite::Connection>& connection() const { return conn_; }

  Result<CreateResult> Create(const Run& run) override;
  Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>& runs,
                                              const Admission& admission) override;
  Result<Run> Get(const RunId& id) override;
  Result<RunPage> List(const ListQuery& query) override;
  Result<Run> Update(const Run& run) override;
  Result<std::vector<Run>> ListActive() override;
  // run_changes.seq, moved by triggers on runs.
  Result<std::optional<std::int64_t>> ChangeMarker() override;
  Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) override;
  Result<double> CostSince(WallTime since, const std::string& tenant) override;
  Status Ping() override;
  Status Heartbeat(const ReplicaInfo& info) override;
  Result<std::vector<ReplicaInfo>> ListReplicas() override;

 private:
  Result<CreateResult> CreateLocked(const Run& run);
  Result<std::optional<Run>> FindReplayLocked(const Run& run);
  Status InsertLocked(const Run& run);
  // kResourceExhausted when `adding` more runs would not fit `quota` (counted now, inside the
  // caller's transaction).
  Status CheckQuotaLocked(const Run& run, const RunQuota& quota, bool per_day, int adding);
  Result<Run> UpdateLocked(const Run& run);
  Status ExplainFailedUpdate(const Run& run);
  Status WriteTags(const Run& run);
  Result<std::vector<Run>> QueryRuns(const std::string& sql,
                                     const std::vector<sqlite::Param>& params);

  // Read cache for Get (the hot path of GET /runs/{id}): parsed runs by id, valid while no
  // other connection has committed (PRAGMA data_version unchanged). Our own writes keep it
  // current. Bounded; cleared wholesale when full.
  bool CacheValidLocked();
  void CacheLocked(const Run& run);

  std::shared_ptr<sqlite::Connection> conn_;
  sqlite::Db* db_;                              // conn_->db, guarded by conn_->mu
  std::unordered_map<std::string, Run> cache_;  // guarded by conn_->mu
  std::int64_t data_version_ = -1;              // guarded by conn_->mu
};

}  // namespace outpost
