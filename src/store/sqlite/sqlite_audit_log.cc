#include "store/sqlite/sqlite_audit_log.h"

#include <mutex>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
namespace {

using sqlite::Param;

struct Sql {
  std::string text;
  std::vector<Param> params;
  void And(const std::string& cond, Param p) {
    params.push_back(std::move(p));
    text +=
        (params.size() == 1 ? " WHERE " : " AND ") + cond + " ?" + std::to_string(params.size());
  }
};

Result<Sql> BuildQuery(const AuditQuery& q) {
  if (q.limit < 1 || q.limit > 1000) {
    return Status::Invalid({{"limit", "must be an integer from 1 to 1000"}});
  }
  Sql sql{"SELECT doc FROM audit", {}};
  if (q.tenant) sql.And("tenant =", *q.tenant);
  if (q.since) sql.And("at_ms >=", ToMillis(*q.since));
  if (q.action) sql.And("action =", *q.action);
  if (q.resource) sql.And("resource =", *q.resource);
  if (q.cursor) {
    OUTPOST_ASSIGN_OR_RETURN(auto after, DecodeAuditCursor(*q.cursor));
    sql.And(q.oldest_first ? "id >" : "id <", after);
  }
  sql.text += q.oldest_first ? " ORDER BY id ASC" : " ORDER BY id DESC";
  sql.params.emplace_back(std::int64_t{q.limit} + 1);  // one more: is there another page?
  sql.text += " LIMIT ?" + std::to_string(sql.params.size());
  return sql;
}

}  // namespace

Result<std::unique_ptr<SqliteAuditLog>> SqliteAuditLog::Open(const std::string& path,
                                                             Millis busy_timeout) {
  OUTPOST_ASSIGN_OR_RETURN(auto conn, sqlite::OpenConnection(path, {busy_timeout, false}));
  return std::make_unique<SqliteAuditLog>(std::move(conn));
}

Status SqliteAuditLog::Append(const AuditRecord& r) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("INSERT INTO audit (id, tenant, at_ms, action, resource, doc) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(
      {r.id, r.tenant, ToMillis(r.at), r.action, r.resource, ToJson(AuditRecordToJson(r))}));
  Status st = stmt.Run("append audit record");
  if (st.code() == Code::kConflict) return Conflict("audit record " + r.id + " already exists");
  return st;
}

Result<AuditPage> SqliteAuditLog::List(const AuditQuery& query) {
  OUTPOST_ASSIGN_OR_RETURN(auto sql, BuildQuery(query));
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql.text));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind(sql.params));
  AuditPage page;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto row, stmt.Step("list audit records"));
    if (!row) break;
    auto doc = ParseJson(stmt.Text(0));
    if (!doc.ok() || !doc->is_object()) return Internal("corrupt audit record in the store");
    OUTPOST_ASSIGN_OR_RETURN(auto rec, AuditRecordFromJson(doc->get_object()));
    page.records.push_back(std::move(rec));
  }
  if (page.records.size() > static_cast<std::size_t>(query.limit)) {
    page.records.resize(static_cast<std::size_t>(query.limit));
    page.next_cursor = EncodeAuditCursor(page.records.back().id);
  }
  return page;
}

Result<int> SqliteAuditLog::Prune(WallTime before) {
  std::lock_guard lock(conn_->mu);
  OUTPOST_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("DELETE FROM audit WHERE at_ms < ?1"));
  OUTPOST_RETURN_IF_ERROR(stmt.Bind({ToMillis(before)}));
  OUTPOST_RETURN_IF_ERROR(stmt.Run("prune audit records"));
  return db_->Changes();
}

}  // namespace outpost
