#include "store/sqlite/sqlite_run_store.h"

#include "common/json_util.h"
#include "common/time_util.h"
#include "store/admission.h"
#include "store/run_doc.h"
#include "store/sqlite/sqlite_list_query.h"
#include "store/sqlite/sqlite_schema.h"

namespace outpost {
namespace {

using sqlite::Param;

// Column order shared by INSERT and UPDATE: ?1 id ... ?12 doc, ?13 version (the stored version
// for INSERT, the expected one for UPDATE), ?14 key_id.
constexpr const char* kInsert =
    "INSERT INTO runs (id, tenant, status, agent, repo, group_id, created_ms, idempotency_key, "
    "request_hash, started_ms, ended_ms, doc, version, key_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

// The status condition makes "a terminal status is written once" part of the conditional write
// itself, not a separate read that a racing writer could slip past.
constexpr const char* kUpdate =
    "UPDATE runs SET tenant = ?2, status = ?3, agent = ?4, repo = ?5, group_id = ?6, "
    "created_ms = ?7, idempotency_key = ?8, request_hash = ?9, started_ms = ?10, ended_ms = ?11, "
    "doc = ?12, version = version + 1, key_id = ?14 "
    "WHERE id = ?1 AND version = ?13 "
    "AND (status IN ('PENDING', 'RUNNING') OR status = ?3)";

constexpr const char* kSelectById = "SELECT version, doc FROM runs WHERE id = ?1";
constexpr const char* kSelectByKey =
    "SELECT version, doc FROM runs WHERE tenant = ?1 AND idempotency_key = ?2";
constexpr const char* kSelectActive =
    "SELECT version, doc FROM runs WHERE status IN ('PENDING', 'RUNNING') ORDER BY id ASC";
constexpr const char* kStats =
    "SELECT agent, status, COUNT(*), "
    "COALESCE(SUM(CASE WHEN started_ms IS NOT NULL AND ended_ms IS NOT NULL "
    "THEN ended_ms - started_ms END), 0), "
    "COUNT(CASE WHEN started_ms IS NOT NULL AND ended_ms IS NOT NULL THEN 1 END) "
    "FROM runs WHERE created_ms >= ?1 AND (?2 IS NULL OR tenant = ?2) GROUP BY agent, status";

constexpr const char* kCostSince =
    "SELECT COALESCE(SUM(json_extract(doc, '$.usage.costUsd')), 0) FROM runs "
    "WHERE tenant = ?1 AND created_ms >= ?2";

Param OptMillis(const std::optional<WallTime>& t) {
  return t ? Param(ToMillis(*t)) : Param(std::monostate{});
}

// `stored` is the run as it will be stored (its version included in doc); `version_param` binds
// ?13.
std::vector<Param> RowParams(const Run& stored, std::int64_t version_param) {
  return {stored.id.str(),
          stored.tenant,
          std::string(ToString(stored.status)),
          stored.agent,
          sqlite::OptParam(stored.repo),
          sqlite::OptParam(stored.group_id),
          ToMillis(stored.created_at),
          sqlite::OptParam(stored.idempotency_key),
          stored.request_hash,
          OptMillis(stored.started_at),
          OptMillis(stored.ended_at),
          ToJson(RunToDoc(stored)),
          version_param,
          stored.key_id.empty() ? Param(std::monostate{}) : Param(stored.key_id)};
}

// Runs one statement that returns no rows.
Status RunStmt(sqlite::Db& db, const std::string& sql, const std::vector<Param>& params,
               std::string_view what) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  return stmt.Run(what);
}

// A row of (version, doc). The version column is authoritative.
Result<Run> ReadRun(const sqlite::Stmt& stmt) {
  auto doc = ParseJson(stmt.Text(1));
  if (!doc.ok() || !doc->is_object()) return Internal("corrupt run record in run store");
  OUTPOST_ASSIGN_OR_RETURN(Run run, RunFromDoc(doc->get_object()));
  run.version = stmt.Int(0);
  return run;
}

Status TerminalConflict(const Run& current) {
  const std::string status(ToString(current.status));
  return Conflict("run " + current.id.str() + " is already " + status +
                  "; a terminal status never changes")
      .WithDetail("currentStatus", status.c_str());
}

}  // namespace

Result<std::unique_ptr<SqliteRunStore>> SqliteRunStore::Open(const std::string& path,
                                                             const SqliteRunStoreOptions& options) {
  OUTPOST_ASSIGN_OR_RETURN(
      auto conn, sqlite::OpenConnection(path, {options.busy_timeout, options.synchronous_full}));
  return std::make_unique<SqliteRunStore>(std::move(conn));
}

int SqliteRunStore::LatestSchemaVersion() { return sqlite::LatestSchemaVersion(); }

SqliteRunStore::SqliteRunStore(std::shared_ptr<sqlite::Connection> conn)
    : conn_(std::move(conn)), db_(conn_->db.get()) {}

SqliteRunStore::~SqliteRunStore() = default;

Result<CreateResult> SqliteRunStore::Create(const Run& run) {
  std::lock_guard lock(conn_->mu);
  return CreateLocked(run);
}

Result<CreateResult> SqliteRunStore::CreateLocked(const Run& run) {
  OUTPOST_ASSIGN_OR_RETURN(auto txn, sqlite::Txn::Begin(*db_));
  OUTPOST_ASSIGN_OR_RETURN(auto replay, FindReplayLocked(run));
  if (replay) return CreateResult{std::move(*replay), false};
  OUTPOST_RETURN_IF_ERROR(InsertLocked(run));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return CreateResult{run, true};
}

// The run an earlier Create made with run's idempotency key (nullopt: none, or no key);
// kConflict when the key was used for another request.
Result<std::optional<Run>> SqliteRunStore::FindReplayLocked(const Run& run) {
  if (!run.idempotency_key) return std::optional<Run>();
  OUTPOST_ASSIGN_OR_RETURN(auto prior, QueryRuns(kSelectByKey, {run.tenant, *run.idempotency_key}));
  if (prior.empty()) return std::optional<Run>();
  if (prior.front().request_hash != run.request_hash) {
    return Conflict("idempotency key '" + *run.idempotency_key +
                    "' was already used with a different request")
        .WithDetail("idempotencyKey", run.idempotency_key->c_str());
  }
  return std::optional<Run>(std::move(prior.front()));
}

Status SqliteRunStore::InsertLocked(const Run& run) {
  Status st = RunStmt(*db_, kInsert, RowParams(run, run.version), "insert run");
  if (st.code() == Code::kConflict) return Conflict("run " + run.id.str() + " already exists");
  OUTPOST_RETURN_IF_ERROR(st);
  return WriteTags(run);
}

// Count, check and insert in one IMMEDIATE transaction: the write lock is held from the count
// to the commit, so no other writer (thread, process or replica on this file) can slip a run in
// between.
Result<std::vector<CreateResult>> SqliteRunStore::CreateAll(const std::vector<Run>& runs,
                                                            const Admission& admission) {
  OUTPOST_RETURN_IF_ERROR(ValidateBatch(runs, admission));
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto txn, sqlite::Txn::Begin(*db_));
  std::vector<CreateResult> out;
  int fresh = 0;
  for (const Run& run : runs) {
    OUTPOST_ASSIGN_OR_RETURN(auto replay, FindReplayLocked(run));
    out.push_back(replay ? CreateResult{std::move(*replay), false} : CreateResult{run, true});
    fresh += out.back().created;
  }
  if (fresh > 0) {
    if (admission.concurrent) {
      OUTPOST_RETURN_IF_ERROR(CheckQuotaLocked(runs.front(), *admission.concurrent, false, fresh));
    }
    if (admission.per_day) {
      OUTPOST_RETURN_IF_ERROR(CheckQuotaLocked(runs.front(), *admission.per_day, true, fresh));
    }
  }
  for (const CreateResult& r : out) {
    if (r.created) OUTPOST_RETURN_IF_ERROR(InsertLocked(r.run));
  }
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return out;
}

Status SqliteRunStore::CheckQuotaLocked(const Run& run, const RunQuota& quota, bool per_day,
                                        int adding) {
  std::string sql = quota.scope == RunQuota::Scope::kKey
                        ? "SELECT COUNT(*) FROM runs WHERE key_id = ?1"
                        : "SELECT COUNT(*) FROM runs WHERE tenant = ?1";
  std::vector<Param> params{ScopeId(run, quota.scope)};
  if (per_day) {
    sql += " AND created_ms >= ?2 AND created_ms < ?3";
    const std::int64_t day = UtcDayStartMs(run.created_at);
    params.emplace_back(day);
    params.emplace_back(day + kDayMs);
  } else {
    sql += " AND status IN ('PENDING', 'RUNNING')";
  }
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("count runs for a quota"));
  const std::int64_t current = row ? stmt.Int(0) : 0;
  if (current + adding <= quota.max) return Status::Ok();
  return QuotaExceeded(per_day ? kQuotaRunsPerDay : kQuotaConcurrentRuns, quota.max, current);
}

Result<Run> SqliteRunStore::Get(const RunId& id) {
  std::lock_guard lock(conn_->mu);
  if (CacheValidLocked()) {
    if (auto it = cache_.find(id.str()); it != cache_.end()) return it->second;
  }
  OUTPOST_ASSIGN_OR_RETURN(auto runs, QueryRuns(kSelectById, {id.str()}));
  if (runs.empty()) return NotFound("run " + id.str() + " not found");
  CacheLocked(runs.front());
  return std::move(runs.front());
}

bool SqliteRunStore::CacheValidLocked() {
  auto stmt = db_->Prepare("PRAGMA data_version");
  if (!stmt.ok()) return false;
  auto row = stmt->Step("data_version");
  if (!row.ok() || !*row) return false;
  std::int64_t v = stmt->Int(0);
  if (v != data_version_) {  // another connection committed: anything cached may be stale
    cache_.clear();
    data_version_ = v;
    return false;
  }
  return true;
}

void SqliteRunStore::CacheLocked(const Run& run) {
  constexpr std::size_t kMaxCached = 4096;
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.insert_or_assign(run.id.str(), run);
}

Result<RunPage> SqliteRunStore::List(const ListQuery& query) {
  auto sql = sqlite::BuildListQuery(query);
  if (!sql.ok()) return sql.status();
  std::lock_guard lock(conn_->mu);
  auto runs = QueryRuns(sql->sql, sql->params);
  if (!runs.ok()) return runs.status();
  RunPage page;
  page.runs = std::move(*runs);
  // One row past the limit was fetched only to learn whether another page exists.
  if (page.runs.size() > static_cast<std::size_t>(query.limit)) {
    page.runs.resize(static_cast<std::size_t>(query.limit));
    page.next_cursor = sqlite::EncodeCursor(page.runs.back().id.str());
  }
  return page;
}

Result<Run> SqliteRunStore::Update(const Run& run) {
  std::lock_guard lock(conn_->mu);
  return UpdateLocked(run);
}

Result<Run> SqliteRunStore::UpdateLocked(const Run& run) {
  auto txn = sqlite::Txn::Begin(*db_);
  if (!txn.ok()) return txn.status();
  Run stored = run;
  stored.version = run.version + 1;
  Status st = RunStmt(*db_, kUpdate, RowParams(stored, run.version), "update run");
  if (st.code() == Code::kConflict) return Conflict("update of run " + run.id.str() + " conflicts");
  OUTPOST_RETURN_IF_ERROR(st);
  if (db_->Changes() == 0) return ExplainFailedUpdate(run);
  OUTPOST_RETURN_IF_ERROR(
      RunStmt(*db_, "DELETE FROM run_tags WHERE run_id = ?1", {run.id.str()}, "replace tags"));
  OUTPOST_RETURN_IF_ERROR(WriteTags(run));
  OUTPOST_RETURN_IF_ERROR(txn->Commit());
  CacheLocked(stored);
  return stored;
}

// The conditional UPDATE changed nothing; the row, read in the same transaction, says why.
Status SqliteRunStore::ExplainFailedUpdate(const Run& run) {
  auto rows = QueryRuns(kSelectById, {run.id.str()});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("run " + run.id.str() + " not found");
  const Run& current = rows->front();
  if (IsTerminal(current.status) && current.status != run.status) return TerminalConflict(current);
  return Conflict("run " + run.id.str() + " was changed concurrently (stored version " +
                  std::to_string(current.version) + ", expected " + std::to_string(run.version) +
                  ")")
      .WithDetail("currentStatus", ToString(current.status).data());
}

Result<std::vector<Run>> SqliteRunStore::ListActive() {
  std::lock_guard lock(conn_->mu);
  return QueryRuns(kSelectActive, {});
}

Result<std::optional<std::int64_t>> SqliteRunStore::ChangeMarker() {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT seq FROM run_changes WHERE id = 1"));
  OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("read the runs' change marker"));
  if (!row) return Internal("run store: the run_changes row is missing");
  return std::optional<std::int64_t>(stmt.Int(0));
}

Result<RunStats> SqliteRunStore::Stats(WallTime since, const std::optional<std::string>& tenant) {
  std::lock_guard lock(conn_->mu);
  auto stmt = db_->Prepare(kStats);
  if (!stmt.ok()) return stmt.status();
  OUTPOST_RETURN_IF_ERROR(stmt->Bind({ToMillis(since), sqlite::OptParam(tenant)}));
  RunStats stats;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt->Step("read run stats"));
    if (!row) break;
    auto status = ParseRunStatus(stmt->Text(1));
    if (!status) return Internal("corrupt run status in run store");
    AgentStats& agent = stats.by_agent[stmt->Text(0)];
    agent.by_status[*status] = static_cast<int>(stmt->Int(2));
    if (*status == RunStatus::kCompleted) {
      agent.completed_duration_ms_total = stmt->Int(3);
      agent.completed_count = static_cast<int>(stmt->Int(4));
    }
  }
  return stats;
}

Result<double> SqliteRunStore::CostSince(WallTime since, const std::string& tenant) {
  std::lock_guard lock(conn_->mu);
  auto stmt = db_->Prepare(kCostSince);
  if (!stmt.ok()) return stmt.status();
  OUTPOST_RETURN_IF_ERROR(stmt->Bind({tenant, ToMillis(since)}));
  auto row = stmt->Step("sum run costs");
  if (!row.ok()) return row.status();
  if (!*row) return 0.0;
  return stmt->Double(0);
}

Status SqliteRunStore::Ping() {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT 1"));
  return stmt.Run("ping");
}

Status SqliteRunStore::Heartbeat(const ReplicaInfo& info) {
  std::lock_guard lock(conn_->mu);
  return RunStmt(*db_,
                 "INSERT INTO replicas (id, heartbeat_ms, doc) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (id) DO UPDATE SET heartbeat_ms = ?2, doc = ?3",
                 {info.id, ToMillis(info.heartbeat_at), ToJson(ReplicaToDoc(info))},
                 "write replica heartbeat");
}

Result<std::vector<ReplicaInfo>> SqliteRunStore::ListReplicas() {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT doc FROM replicas ORDER BY id"));
  std::vector<ReplicaInfo> out;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("list replicas"));
    if (!row) break;
    auto doc = ParseJson(stmt.Text(0));
    if (!doc.ok() || !doc->is_object()) return Internal("corrupt replica record in run store");
    OUTPOST_ASSIGN_OR_RETURN(ReplicaInfo r, ReplicaFromDoc(doc->get_object()));
    out.push_back(std::move(r));
  }
  return out;
}

Status SqliteRunStore::WriteTags(const Run& run) {
  for (const auto& [key, value] : run.tags) {
    OUTPOST_RETURN_IF_ERROR(RunStmt(*db_,
                                    "INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3)",
                                    {run.id.str(), key, value}, "insert tag"));
  }
  return Status::Ok();
}

Result<std::vector<Run>> SqliteRunStore::QueryRuns(const std::string& sql,
                                                   const std::vector<Param>& params) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(params));
  std::vector<Run> runs;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("read runs"));
    if (!row) return runs;
    OUTPOST_ASSIGN_OR_RETURN(auto run, ReadRun(stmt));
    runs.push_back(std::move(run));
  }
}

}  // namespace outpost
