#include "store/sqlite/sqlite_schema.h"

#include <array>
#include <string>

namespace outpost::sqlite {
namespace {

// Append-only: a step, once released, is never edited (files in the field have applied it).
// `doc` holds RunToDoc(run) (store/run_doc.h); the other columns exist to be filtered, indexed or
// aggregated and are written from the same Run in the same statement.
constexpr std::array<const char*, 7> kMigrations = {
    R"sql(
CREATE TABLE runs (
  id              TEXT PRIMARY KEY NOT NULL,
  tenant          TEXT NOT NULL,
  status          TEXT NOT NULL,
  agent           TEXT NOT NULL,
  repo            TEXT,
  group_id        TEXT,
  created_ms      INTEGER NOT NULL,
  idempotency_key TEXT,
  request_hash    TEXT NOT NULL,
  started_ms      INTEGER,
  ended_ms        INTEGER,
  version         INTEGER NOT NULL,
  doc             TEXT NOT NULL
);
CREATE UNIQUE INDEX runs_idempotency ON runs (tenant, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_status ON runs (status, id);
CREATE INDEX runs_agent ON runs (agent, id);
CREATE INDEX runs_tenant ON runs (tenant, id);
CREATE INDEX runs_created ON runs (created_ms);
CREATE TABLE run_tags (
  run_id TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_tags_kv ON run_tags (key, value, run_id);
)sql",
    R"sql(
CREATE TABLE replicas (
  id           TEXT PRIMARY KEY NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  doc          TEXT NOT NULL
);
)sql",
    // auth: tenants and API keys (store/auth_store.h). Only a key's SHA-256 is stored.
    R"sql(
CREATE TABLE tenants (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  status     TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE api_keys (
  key_id       TEXT PRIMARY KEY NOT NULL,
  tenant       TEXT NOT NULL,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  status       TEXT NOT NULL,
  created_ms   INTEGER NOT NULL,
  expires_ms   INTEGER,
  revoked_ms   INTEGER,
  last_used_ms INTEGER,
  use_count    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_tenant ON api_keys (tenant, key_id);
)sql",
    // quotas: the API key of a run, and the indexes that count a tenant's or a key's active
    // runs and runs of a day inside the admission transaction (SqliteRunStore::CreateAll).
    R"sql(
ALTER TABLE runs ADD COLUMN key_id TEXT;
CREATE INDEX runs_tenant_status ON runs (tenant, status);
CREATE INDEX runs_tenant_created ON runs (tenant, created_ms);
CREATE INDEX runs_key_status ON runs (key_id, status) WHERE key_id IS NOT NULL;
CREATE INDEX runs_key_created ON runs (key_id, created_ms) WHERE key_id IS NOT NULL;
)sql",
    // quotas: the audit log (SqliteAuditLog). `doc` is AuditRecordToJson.
    R"sql(
CREATE TABLE audit (
  id       TEXT PRIMARY KEY NOT NULL,
  tenant   TEXT NOT NULL,
  at_ms    INTEGER NOT NULL,
  action   TEXT NOT NULL,
  resource TEXT NOT NULL,
  doc      TEXT NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant, id);
CREATE INDEX audit_at ON audit (at_ms);
)sql",
    // the event log (SqliteEventLog): a row is an item, the events first_seq..last_seq of one
    // append as "<type>\t<json>\n" lines; `ended`: its last event is `end`.
    R"sql(
CREATE TABLE run_events (
  run_id    TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  ended     INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,
  body      TEXT NOT NULL,
  PRIMARY KEY (run_id, first_seq)
) WITHOUT ROWID;
)sql",
    // the runs' change marker (RunStore::ChangeMarker): one row whose seq every insert, update
    // and delete of a run moves, in the same statement (whichever process writes).
    R"sql(
CREATE TABLE run_changes (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO run_changes (id, seq) VALUES (1, 0);
CREATE TRIGGER runs_changed_insert AFTER INSERT ON runs
BEGIN UPDATE run_changes SET seq = seq + 1 WHERE id = 1; END;
CREATE TRIGGER runs_changed_update AFTER UPDATE ON runs
BEGIN UPDATE run_changes SET seq = seq + 1 WHERE id = 1; END;
CREATE TRIGGER runs_changed_delete AFTER DELETE ON runs
BEGIN UPDATE run_changes SET seq = seq + 1 WHERE id = 1; END;
)sql",
};

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Result<int> SchemaVersion(Db& db) {
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db.Prepare("PRAGMA user_version"));
  OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("read schema version"));
  return row ? static_cast<int>(stmt.Int(0)) : 0;
}

Status Migrate(Db& db) {
  // Fast path without the write lock: the usual open of an up-to-date file.
  auto current = SchemaVersion(db);
  if (!current.ok()) return current.status();
  if (*current == LatestSchemaVersion()) return Status::Ok();

  OUTPOST_ASSIGN_OR_RETURN(auto txn, Txn::Begin(db));
  current = SchemaVersion(db);  // re-read under the lock: another process may have migrated
  if (!current.ok()) return current.status();
  if (*current > LatestSchemaVersion()) {
    return FailedPrecondition("run store schema version " + std::to_string(*current) +
                              " is newer than this binary supports (" +
                              std::to_string(LatestSchemaVersion()) + ")");
  }
  for (int v = *current; v < LatestSchemaVersion(); ++v) {
    OUTPOST_RETURN_IF_ERROR(db.Exec(kMigrations[v], "schema migration " + std::to_string(v + 1)));
  }
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(LatestSchemaVersion()),
                                  "set schema version"));
  return txn.Commit();
}

}  // namespace outpost::sqlite
