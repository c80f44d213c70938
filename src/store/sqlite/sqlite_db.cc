#include "store/sqlite/sqlite_db.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include "common/log.h"

namespace outpost::sqlite {
namespace {

// Statements beyond this many distinct SQL texts (List builds its SQL from the filters in use)
// are prepared per call instead of cached, so the cache cannot grow without bound.
constexpr std::size_t kMaxCachedStatements = 64;

}  // namespace

Status ErrorStatus(int rc, std::string_view what, sqlite3* db) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string op(what);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      spdlog::debug("sqlite: {}: busy ({})", op, detail);
      return Unavailable("run store is busy (" + op + "); retry later");
    case SQLITE_CONSTRAINT:
      return Conflict("run store: " + op + " conflicts with an existing record");
    default:
      break;
  }
  spdlog::warn("sqlite: {} failed: {} (rc={})", op, detail, rc);
  switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Unavailable("run store storage error during " + op);
    case SQLITE_NOTADB:
      return FailedPrecondition("run store file is not a SQLite database");
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return FailedPrecondition("run store database is read-only");
    case SQLITE_CORRUPT:
      return Internal("run store database is corrupt");
    default:
      return Internal("run store: " + op + " failed");
  }
}

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_), owned_(other.owned_) {
  other.stmt_ = nullptr;
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Status Stmt::Bind(const std::vector<Param>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i) + 1;
    const Param& p = params[i];
    int rc = SQLITE_OK;
    if (const auto* s = std::get_if<std::string>(&p)) {
      rc = sqlite3_bind_text(stmt_, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
      rc = sqlite3_bind_int64(stmt_, idx, *n);
    } else {
      rc = sqlite3_bind_null(stmt_, idx);
    }
    if (rc != SQLITE_OK) return ErrorStatus(rc, "bind", db_);
  }
  return Status::Ok();
}

Result<bool> Stmt::Step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorStatus(rc, what, db_);
}

Status Stmt::Run(std::string_view what) {
  for (;;) {
    auto row = Step(what);
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

void Stmt::Reset() { sqlite3_reset(stmt_); }

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Millis busy_timeout) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = ErrorStatus(rc, "open " + path, raw);
    sqlite3_close(raw);  // a handle is allocated even on failure
    return st;
  }
  sqlite3_extended_result_codes(raw, 1);
  // Private to the service (audit F8), also a database made by an older version with the
  // umask's 0644. SQLite gives its -wal and -shm files the database file's mode.
  if (path != ":memory:" && !path.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) ::chmod((path + suffix).c_str(), 0600);
  }
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::Exec(const std::string& sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, what, db_);
  return Status::Ok();
}

Result<Stmt> Db::Prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return Stmt(db_, it->second, false);
  sqlite3_stmt* stmt = nullptr;
  const bool cache = cache_.size() < kMaxCachedStatements;
  const unsigned flags = cache ? SQLITE_PREPARE_PERSISTENT : 0;
  const int rc =
      sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, "prepare", db_);
  if (cache) cache_.emplace(sql, stmt);
  return Stmt(db_, stmt, !cache);
}

int Db::Changes() const { return sqlite3_changes(db_); }

bool Db::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<Txn> Txn::Begin(Db& db) {
  OUTPOST_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "begin transaction"));
  return Txn(db);
}

Txn::~Txn() {
  // Some errors (e.g. SQLITE_FULL) make SQLite roll back by itself; only roll back what is open.
  if (db_ != nullptr && db_->InTransaction()) (void)db_->Exec("ROLLBACK", "rollback");
}

Status Txn::Commit() {
  Status st = db_->Exec("COMMIT", "commit");
  if (st.ok()) db_ = nullptr;
  return st;
}

}  // namespace outpost::sqlite
