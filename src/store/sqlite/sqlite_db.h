// A thin RAII layer over one SQLite connection: prepared statements (cached), IMMEDIATE
// transactions, and the one translation of SQLite result codes into our Codes.
//
// Nothing here is thread-safe: the owner (SqliteRunStore) serializes every use of a Db and of the
// statements and transactions made from it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace outpost::sqlite {

// Translates a SQLite result code into a Status whose message names `what` (the operation).
// BUSY/LOCKED (and I/O errors) become kUnavailable, constraint violations kConflict, a file that
// is not a database kFailedPrecondition, anything else kInternal. SQLite's own text is logged,
// never returned: it must not reach API clients.
Status ErrorStatus(int rc, std::string_view what, sqlite3* db);

// A parameter for positional binding (?1, ?2, ...). monostate binds NULL.
using Param = std::variant<std::monostate, std::int64_t, std::string>;

inline Param OptParam(const std::optional<std::string>& v) {
  return v ? Param(*v) : Param(std::monostate{});
}

// A prepared statement. A cached one is borrowed from its Db and reset (bindings cleared) when
// this handle goes away; an uncached one is finalized.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, bool owned) : db_(db), stmt_(stmt), owned_(owned) {}
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Binds params to ?1..?N in order. Fails only on a programming error (too many params).
  Status Bind(const std::vector<Param>& params);
  // Advances: true with a row ready, false when done.
  Result<bool> Step(std::string_view what);
  // Steps to completion (for statements that return no rows).
  Status Run(std::string_view what);
  // Makes the statement executable again (keeps bindings).
  void Reset();

  bool IsNull(int col) const;
  std::int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
};

class Db {
 public:
  // Opens (creating when absent) the database file with extended result codes and the given
  // busy timeout: a lock held by another connection is waited for that long, then kUnavailable.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Millis busy_timeout);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return nothing of interest (DDL, pragmas).
  Status Exec(const std::string& sql, std::string_view what);
  // Prepares `sql`, reusing a cached statement when possible. A cached statement is shared, so a
  // caller must finish with one Stmt before preparing the same SQL again.
  Result<Stmt> Prepare(const std::string& sql);
  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int Changes() const;
  // True inside an explicit transaction (SQLite may end one on its own after some errors).
  bool InTransaction() const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A write transaction taken with BEGIN IMMEDIATE, so the write lock is acquired (or waited for,
// up to the busy timeout) up front instead of failing on a later lock upgrade. Rolled back
// unless committed.
class Txn {
 public:
  static Result<Txn> Begin(Db& db);
  Txn(Txn&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  ~Txn();
  Status Commit();

 private:
  explicit Txn(Db& db) : db_(&db) {}
  Db* db_;
};

}  // namespace outpost::sqlite
