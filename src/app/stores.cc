#include "app/stores.h"

#include "app/event_chunks.h"
#include "store/dynamodb/dynamodb_audit_log.h"
#include "store/dynamodb/dynamodb_auth_store.h"
#include "store/dynamodb/dynamodb_event_log.h"
#include "store/dynamodb/dynamodb_run_store.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_auth_store.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"

extern char** environ;

namespace outpost::app {
namespace {

constexpr std::string_view kSqlite = "sqlite://";
constexpr std::string_view kDynamoDb = "dynamodb://";

Status Unsupported(const std::string& url) {
  return InvalidArgument("unsupported store URL '" + url +
                         "' (sqlite://PATH or dynamodb://TABLE_PREFIX?region=...)");
}

}  // namespace

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

Result<std::unique_ptr<RunStore>> OpenRunStore(const Options& opts) {
  const std::string url = opts.StoreUrl();
  if (url.starts_with(kSqlite)) {
    auto store = SqliteRunStore::Open(url.substr(kSqlite.size()));
    if (!store.ok()) return store.status();
    return std::unique_ptr<RunStore>(std::move(*store));
  }
  if (url.starts_with(kDynamoDb)) {
    dynamodb::DynamoDbRunStoreOptions o;
    o.create_tables = opts.create_tables;
    o.retention = std::chrono::hours(24) * opts.retention_days;
    auto store =
        dynamodb::DynamoDbRunStore::Open(url, ProcessEnvironment(), RealClock::Instance(), o);
    if (!store.ok()) return store.status();
    return std::unique_ptr<RunStore>(std::move(*store));
  }
  return Unsupported(url);
}

Result<std::unique_ptr<AuthStore>> OpenAuthStore(const Options& opts, RunStore* runs) {
  const std::string url = opts.StoreUrl();
  if (auto* sqlite = dynamic_cast<SqliteRunStore*>(runs)) {
    return std::unique_ptr<AuthStore>(std::make_unique<SqliteAuthStore>(sqlite->connection()));
  }
  if (url.starts_with(kSqlite)) {
    auto store = SqliteAuthStore::Open(url.substr(kSqlite.size()));
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuthStore>(std::move(*store));
  }
  if (url.starts_with(kDynamoDb)) {
    dynamodb::DynamoDbAuthStoreOptions o;
    o.create_tables = opts.create_tables;
    auto store =
        dynamodb::DynamoDbAuthStore::Open(url, ProcessEnvironment(), RealClock::Instance(), o);
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuthStore>(std::move(*store));
  }
  return Unsupported(url);
}

Result<std::unique_ptr<AuditLog>> OpenAuditLog(const Options& opts, RunStore& store,
                                               const Clock& clock) {
  const std::string url = opts.StoreUrl();
  if (auto* sqlite = dynamic_cast<SqliteRunStore*>(&store)) {
    return std::unique_ptr<AuditLog>(std::make_unique<SqliteAuditLog>(sqlite->connection()));
  }
  if (url.starts_with(kSqlite)) {
    auto log = SqliteAuditLog::Open(url.substr(kSqlite.size()));
    if (!log.ok()) return log.status();
    return std::unique_ptr<AuditLog>(std::move(*log));
  }
  if (auto* ddb = dynamic_cast<dynamodb::DynamoDbRunStore*>(&store)) {
    dynamodb::DynamoDbAuditOptions o;
    o.create_table = opts.create_tables || ddb->location().create_tables;
    o.retention = std::chrono::hours(24) * opts.audit.retention_days;
    auto log = dynamodb::DynamoDbAuditLog::Open(*ddb, clock, o);
    if (!log.ok()) return log.status();
    return std::unique_ptr<AuditLog>(std::move(*log));
  }
  return Unsupported(url);
}

Result<std::unique_ptr<EventLog>> OpenEventLog(const Options& opts, RunStore& store,
                                               const Clock& clock,
                                               artifacts::ArtifactStore& artifacts) {
  const std::string url = opts.StoreUrl();
  if (auto* sqlite = dynamic_cast<SqliteRunStore*>(&store)) {
    return std::unique_ptr<EventLog>(std::make_unique<SqliteEventLog>(sqlite->connection()));
  }
  if (url.starts_with(kSqlite)) {
    auto log = SqliteEventLog::Open(url.substr(kSqlite.size()));
    if (!log.ok()) return log.status();
    return std::unique_ptr<EventLog>(std::move(*log));
  }
  if (auto* ddb = dynamic_cast<dynamodb::DynamoDbRunStore*>(&store)) {
    dynamodb::DynamoDbEventLogOptions o;
    o.create_table = opts.create_tables || ddb->location().create_tables;
    o.retention = std::chrono::hours(24) * opts.retention_days;  // the run store's
    o.chunks = ArtifactEventChunks(artifacts);
    auto log = dynamodb::DynamoDbEventLog::Open(*ddb, clock, o);
    if (!log.ok()) return log.status();
    return std::unique_ptr<EventLog>(std::move(*log));
  }
  return Unsupported(url);
}

}  // namespace outpost::app
