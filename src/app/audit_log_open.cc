#include "app/audit_log_open.h"

#include <ostream>

#include "common/json_util.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_audit_log.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_run_store.h"

extern char** environ;

namespace outpost::app {
namespace {

constexpr std::string_view kSqlite = "sqlite://";

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

Millis Retention(const Options& opts) { return std::chrono::hours(24) * opts.audit.retention_days; }

// The run store the export needs: for DynamoDB, the log shares its client.
Result<std::unique_ptr<RunStore>> OpenStoreForExport(const Options& opts) {
  const std::string url = opts.StoreUrl();
  if (url.starts_with(kSqlite)) {
    auto s = SqliteRunStore::Open(url.substr(kSqlite.size()));
    if (!s.ok()) return s.status();
    return std::unique_ptr<RunStore>(std::move(*s));
  }
  if (url.starts_with("dynamodb://")) {
    auto s = dynamodb::DynamoDbRunStore::Open(url, Environment(), RealClock::Instance());
    if (!s.ok()) return s.status();
    return std::unique_ptr<RunStore>(std::move(*s));
  }
  return InvalidArgument("unsupported store URL '" + url + "'");
}

bool IsTenantName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> OpenAuditLog(const Options& opts, RunStore& store,
                                               const Clock& clock) {
  const std::string url = opts.StoreUrl();
  if (url.starts_with(kSqlite)) {
    auto log = SqliteAuditLog::Open(url.substr(kSqlite.size()));
    if (!log.ok()) return log.status();
    return std::unique_ptr<AuditLog>(std::move(*log));
  }
  if (auto* ddb = dynamic_cast<dynamodb::DynamoDbRunStore*>(&store)) {
    dynamodb::DynamoDbAuditOptions o;
    o.create_table = opts.create_tables || ddb->location().create_tables;
    o.retention = Retention(opts);
    auto log = dynamodb::DynamoDbAuditLog::Open(*ddb, clock, o);
    if (!log.ok()) return log.status();
    return std::unique_ptr<AuditLog>(std::move(*log));
  }
  return InvalidArgument("no audit log for store URL '" + url + "'");
}

int ExportAudit(const Options& opts, const std::string& since, const std::string& tenant,
                std::ostream& out, std::ostream& err) {
  AuditQuery q;
  q.oldest_first = true;
  q.limit = 1000;
  if (!since.empty()) {
    q.since = ParseTime(since);
    if (!q.since) {
      err << "outpost audit export: --since: must be an RFC 3339 time or YYYY-MM-DD\n";
      return 64;
    }
  }
  if (!tenant.empty()) {
    if (!IsTenantName(tenant)) {
      err << "outpost audit export: --tenant: 1-128 characters of A-Z a-z 0-9 . _ : -\n";
      return 64;
    }
    q.tenant = tenant;
  }
  auto store = OpenStoreForExport(opts);
  if (!store.ok()) {
    err << "outpost audit export: " << store.status().message() << "\n";
    return store.status().code() == Code::kInvalidArgument ? 64 : 5;
  }
  auto log = OpenAuditLog(opts, **store, RealClock::Instance());
  if (!log.ok()) {
    err << "outpost audit export: " << log.status().message() << "\n";
    return 5;
  }
  for (;;) {
    auto page = (*log)->List(q);
    if (!page.ok()) {
      err << "outpost audit export: " << page.status().message() << "\n";
      return 5;
    }
    for (const AuditRecord& r : page->records) out << ToJson(AuditRecordToJson(r)) << "\n";
    if (!page->next_cursor) break;
    q.cursor = page->next_cursor;
  }
  out.flush();
  return 0;
}

}  // namespace outpost::app
