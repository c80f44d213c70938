// The stores of the configured store URL (`--store`, Options::StoreUrl()): the run store, the
// tenants-and-keys store and the audit log all live on it — the one SQLite file, or tables
// under one DynamoDB prefix (created when missing with --create-tables). Shared by
// `outpost serve`, `outpost admin` and `outpost audit export`, so each opens them one way.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/options.h"
#include "store/audit_log.h"
#include "store/auth_store.h"
#include "store/event_log.h"
#include "store/run_store.h"

namespace outpost::app {

// The whole process environment (AWS credentials chain, proxies).
std::map<std::string, std::string> ProcessEnvironment();

// kInvalidArgument for an unsupported URL; otherwise the backend's errors (a missing DynamoDB
// table without --create-tables: kFailedPrecondition naming it).
Result<std::unique_ptr<RunStore>> OpenRunStore(const Options& opts);
// With `runs` (the run store opened from the same options) a SQLite auth store shares its
// connection (sqlite_connection.h).
Result<std::unique_ptr<AuthStore>> OpenAuthStore(const Options& opts, RunStore* runs = nullptr);
// `store` is the run store opened from the same options: the SQLite log shares its connection;
// the DynamoDB log borrows its client, so there it must outlive the log. Retention from [audit]
// retention_days (the TTL attribute).
Result<std::unique_ptr<AuditLog>> OpenAuditLog(const Options& opts, RunStore& store,
                                               const Clock& clock);

// Every run's event stream (store/event_log.h), shared by the replicas of one store: the SQLite
// log shares the run store's connection; the DynamoDB log (its own table under the prefix)
// borrows the run store's client and keeps large output payloads as chunk objects under
// events/ in `artifacts`, so there `store` and `artifacts` must outlive it; its items expire
// (TTL) with retention_days + 1 day. A missing <prefix>-events table without --create-tables:
// kFailedPrecondition naming it.
Result<std::unique_ptr<EventLog>> OpenEventLog(const Options& opts, RunStore& store,
                                               const Clock& clock,
                                               artifacts::ArtifactStore& artifacts);

}  // namespace outpost::app
